/**
 * The HTTP side of the kit: a wrapper that gives every request a server span (continuing the caller's W3C
 * trace context), the RED metrics under its route template, an access log line carrying its trace ids, and
 * the `/metrics`, `/healthz` and `/readyz` endpoints.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { HttpMetrics } from "./metrics.ts";
import { methodLabel, routeMatcher } from "./routes.ts";

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** The kit's own endpoints, matched before the app's routes. */
export const METRICS_PATH = "/metrics";
export const HEALTHZ_PATH = "/healthz";
export const READYZ_PATH = "/readyz";

/** A readiness check: resolves true when the app can serve (a cache warmed, a dependency reachable). */
export type ReadinessCheck = () => boolean | Promise<boolean>;

export interface HttpDeps {
  readonly logger: Logger;
  readonly tracer: Tracer;
  readonly registry: Registry;
  readonly metrics: HttpMetrics;
  /** False once shutdown began: /readyz answers 503 so the Service stops sending new requests. */
  readonly isReady: () => boolean;
  readonly checks: readonly ReadinessCheck[];
}

export interface InstrumentOptions {
  /** Route templates of the app (see routeMatcher); the kit's endpoints are added in front. */
  readonly routes: readonly string[];
  /** Log a line per request at this level, or not at all. @default "info" */
  readonly accessLog?: "info" | "debug" | false;
}

function pathOf(url: string | undefined): string {
  const u = url ?? "/";
  const q = u.indexOf("?");
  return q < 0 ? u : u.slice(0, q);
}

async function serveKitEndpoint(path: string, req: IncomingMessage, res: ServerResponse, deps: HttpDeps): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }).end("method not allowed\n");
    return;
  }
  let status = 200;
  let body: string;
  let type = "text/plain; charset=utf-8";
  if (path === METRICS_PATH) {
    body = await deps.registry.metrics();
    type = deps.registry.contentType;
  } else if (path === HEALTHZ_PATH) {
    body = "ok\n";
  } else {
    let ready = deps.isReady();
    for (const check of deps.checks) {
      if (!ready) break;
      try {
        ready = await check();
      } catch (error) {
        deps.logger.warn({ err: error }, "readiness check failed");
        ready = false;
      }
    }
    status = ready ? 200 : 503;
    body = ready ? "ready\n" : "not ready\n";
  }
  res.writeHead(status, { "content-type": type, "cache-control": "no-store", "content-length": Buffer.byteLength(body) });
  res.end(req.method === "HEAD" ? undefined : body);
}

/**
 * Wraps an app's request handler. The route label comes from the templates only, so the metrics' cardinality
 * is fixed however many distinct paths arrive; an exception in the handler becomes a 500 (logged with the trace).
 */
export function instrument(app: Handler, opts: InstrumentOptions, deps: HttpDeps): Handler {
  const match = routeMatcher([METRICS_PATH, HEALTHZ_PATH, READYZ_PATH, ...opts.routes]);
  const accessLog = opts.accessLog ?? "info";
  return (req, res) => {
    const start = process.hrtime.bigint();
    const path = pathOf(req.url);
    const route = match(path);
    const method = methodLabel(req.method);
    const parent = propagation.extract(context.active(), req.headers);
    const span = deps.tracer.startSpan(
      `${method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { "http.request.method": method, "http.route": route, "url.path": path } },
      parent,
    );
    deps.metrics.inFlight.inc();
    let done = false;
    const finish = (aborted: boolean) => {
      if (done) return;
      done = true;
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const status = aborted && !res.writableFinished ? 499 : res.statusCode;
      deps.metrics.inFlight.dec();
      deps.metrics.duration.observe({ method, route, status_code: String(status) }, seconds);
      span.setAttribute("http.response.status_code", status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      if (accessLog) {
        context.with(trace.setSpan(parent, span), () =>
          deps.logger[accessLog]({ method: req.method, path, route, status, ms: Math.round(seconds * 1e4) / 10, bytes: Number(res.getHeader("content-length") ?? 0) || undefined }, "request"),
        );
      }
      span.end();
    };
    res.once("finish", () => finish(false));
    res.once("close", () => finish(true));
    context.with(trace.setSpan(parent, span), () => {
      const run = async () => {
        if (route === METRICS_PATH || route === HEALTHZ_PATH || route === READYZ_PATH) await serveKitEndpoint(path, req, res, deps);
        else await app(req, res);
      };
      run().catch((error: unknown) => {
        span.recordException(error as Error);
        deps.logger.error({ err: error, path, route }, "request handler failed");
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8", connection: "close" }).end("internal error\n");
        else res.destroy();
      });
    });
  };
}
