/**
 * The HTTP side of the kit: a wrapper that gives every request a server span (continuing the caller's W3C
 * trace context), the RED metrics under its route template, an access log line carrying its trace ids, and
 * the `/metrics`, `/healthz` and `/readyz` endpoints.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { context, propagation, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { runInSpan } from "./current.ts";
import { accessLogger } from "./logger.ts";
import type { HttpMetrics } from "./metrics.ts";
import { methodLabel, routeMatcher } from "./routes.ts";
import type { InFlight } from "./shutdown.ts";
import type { UnsampledRoot } from "./tracing.ts";

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** A request a fast path answered itself, between {@link DirectRequests.begin} and {@link DirectRequests.end}. */
export interface DirectRequest {
  readonly method: string;
  readonly path: string;
  readonly route: string;
}

/**
 * For a server that answers some requests without node:http (the site's fast path for static files, on the
 * raw connection): the same telemetry as the handler gives its own requests. `begin` when a request is
 * recognised (its span: a caller's trace context is not read, so a fast path must leave requests carrying
 * one to node:http), `end` once its answer is written: one histogram observation, the span ended, one access
 * line, exactly as for a request through the handler. `inFlight` is the handler's: the fast path puts its
 * connections with an answer still being written there and follows the drain.
 */
export interface DirectRequests {
  /** The route template of a path (the query, if left on, is ignored), as the handler labels it. */
  route(path: string): string;
  /** `method` is the request's (GET, HEAD: a method the label keeps as it is). */
  begin(method: string, path: string, route: string): DirectRequest;
  /** `bytes`: the Content-Length the answer declared (0 for none). */
  end(request: DirectRequest, status: number, bytes: number): void;
  readonly inFlight: InFlight;
}

/** The kit's handler, with what a fast path beside it needs. */
export type InstrumentedHandler = Handler & { direct: DirectRequests };

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
  /** The fraction of new traces kept for a route template (the kit's sampler). */
  readonly setRouteRatio: (route: string, ratio: number) => void;
  /** The ids of a new trace of a route that is not kept, decided without the SDK (see tracing.ts). */
  readonly unsampledRoot: UnsampledRoot;
  /** This handler's responses not yet closed, for the graceful shutdown (see shutdown.ts). */
  readonly inFlight: InFlight;
}

export interface InstrumentOptions {
  /** Route templates of the app (see routeMatcher); the kit's endpoints are added in front. */
  readonly routes: readonly string[];
  /** Log a line per request at this level, or not at all. @default "info" */
  readonly accessLog?: "info" | "debug" | false;
  /**
   * Serve `/metrics` in front of the app. False when a separate listener serves it (`telemetry.listenMetrics`),
   * so that the app's public port does not expose it: there, `/metrics` is just a path of the app.
   * `/healthz` and `/readyz` are served either way (the kubelet probes the app's port). @default true
   */
  readonly metricsEndpoint?: boolean;
  /**
   * The fraction (0..1) of new traces kept, by route template; routes not listed keep every trace. Every
   * request still gets its span's trace and span ids (in its log lines); a trace not kept is only not
   * exported. A caller's sampled `traceparent` is always followed. `OTEL_TRACES_SAMPLER` overrides this.
   */
  readonly traceRatio?: Readonly<Record<string, number>>;
  /**
   * False for routes (all, or those named false) whose handler logs only before it returns, like a static
   * file server: their handler is not run inside an async context (AsyncLocalStorage), which costs on every
   * request. The request's span is still the one on every log line the handler writes synchronously, and
   * in the access line; a line logged after an await, or a span the handler starts, has no parent there.
   * @default true
   */
  readonly asyncContext?: boolean | Readonly<Record<string, boolean>>;
}

/**
 * The Content-Length the response declared. Headers passed straight to `writeHead` (the fast way, which the
 * site's server takes) are not kept for `getHeader`; Node keeps their Content-Length in `_contentLength`.
 */
function contentLength(res: ServerResponse): number {
  return Number(res.getHeader("content-length")) || Number((res as unknown as { _contentLength?: unknown })._contentLength) || 0;
}

function pathOf(url: string | undefined): string {
  const u = url ?? "/";
  const q = u.indexOf("?");
  return q < 0 ? u : u.slice(0, q);
}

/** Serves `/metrics`, `/healthz` and `/readyz` (the kit's endpoints, here or on the metrics listener). */
export async function serveKitEndpoint(path: string, req: IncomingMessage, res: ServerResponse, deps: Pick<HttpDeps, "registry" | "isReady" | "checks" | "logger">): Promise<void> {
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
  } else if (path === READYZ_PATH) {
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
  } else {
    status = 404;
    body = "not found\n";
  }
  res.writeHead(status, { "content-type": type, "cache-control": "no-store", "content-length": Buffer.byteLength(body) });
  res.end(req.method === "HEAD" ? undefined : body);
}

/** What the shared 'close' listener needs of a request, kept on its response under one symbol. */
interface Served {
  /** Recorded already (a response is recorded once, whichever of its endings comes first). */
  done: boolean;
  /** The listener on the connection of a response queued behind another (pipelining), see the handler. */
  gone?: () => void;
  readonly start: number;
  readonly method: string;
  readonly path: string;
  readonly route: string;
  readonly span: Span;
}

const SERVED = Symbol("kit.served");

/**
 * Wraps an app's request handler. The route label comes from the templates only, so the metrics' cardinality
 * is fixed however many distinct paths arrive; an exception in the handler becomes a 500 (logged with the trace).
 * The per-request work is kept to what the promises need, as it runs on every request of every app: one
 * span decision (a new trace of a sampled-down route that is not kept gets its ids without the SDK), one
 * histogram observation, one access line written straight to the log destination, the handler run inside
 * the span's context (so the app's own log lines carry its ids, across awaits too; a route with
 * `asyncContext: false` only for the handler's synchronous run), one shared 'close' listener.
 */
export function instrument(app: Handler, opts: InstrumentOptions, deps: HttpDeps): InstrumentedHandler {
  const kitPaths = opts.metricsEndpoint === false ? [HEALTHZ_PATH, READYZ_PATH] : [METRICS_PATH, HEALTHZ_PATH, READYZ_PATH];
  const match = routeMatcher([...kitPaths, ...opts.routes]);
  const isKit = new Set(kitPaths);
  for (const [route, ratio] of Object.entries(opts.traceRatio ?? {})) deps.setRouteRatio(route, ratio);
  const syncRoutes = asyncContextOff(opts.asyncContext, opts.routes);
  const access = opts.accessLog === false ? undefined : accessLogger(deps.logger, opts.accessLog ?? "info");
  const kit: Handler = (req, res) => serveKitEndpoint(pathOf(req.url), req, res, deps);
  const { duration } = deps.metrics;
  const metrics = deps.metrics;
  const inFlight = deps.inFlight;
  // Everything a request leaves behind once answered: histogram, span status and end, access line.
  const record = (s: Served, rawMethod: string, status: number, bytes: number): void => {
    const ms = performance.now() - s.start;
    metrics.active--;
    duration.observeIn(duration.series(s.method, s.route, status), ms / 1000);
    const span = s.span;
    if (span.isRecording()) {
      span.setAttribute("http.response.status_code", status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    if (access) {
      const sc = span.spanContext();
      access({ method: rawMethod, path: s.path, route: s.route, status, ms: Math.round(ms * 10) / 10, bytes }, sc.traceId, sc.spanId, sc.traceFlags);
    }
    span.end();
  };
  // 'close' follows 'finish' on every response, and comes alone when the client went away first (499).
  // One function for every response (its request's facts on the response), not a closure per request.
  function closed(this: ServerResponse): void {
    const s = (this as ServerResponse & { [SERVED]: Served })[SERVED];
    if (s.done) return;
    s.done = true;
    if (s.gone) this.req.socket?.off("close", s.gone);
    inFlight.delete(this);
    record(s, this.req.method ?? "", this.writableFinished ? this.statusCode : 499, contentLength(this));
  }
  // A new trace not kept (most of a route sampled at 1 %): its ids without the SDK's span machinery.
  const serverSpan = (method: string, route: string, path: string, parent: Context, fresh: boolean): Span => {
    const unsampled = fresh && trace.getSpan(parent) === undefined ? deps.unsampledRoot(route) : undefined;
    return unsampled
      ? trace.wrapSpanContext(unsampled)
      : deps.tracer.startSpan(`${method} ${route}`, { kind: SpanKind.SERVER, attributes: { "http.request.method": method, "http.route": route, "url.path": path } }, parent);
  };
  const fail = (res: ServerResponse, span: Span, path: string, route: string, error: unknown) => {
    span.recordException(error as Error);
    deps.logger.error({ err: error, path, route }, "request handler failed");
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8", connection: "close" }).end("internal error\n");
    else res.destroy();
  };
  const handler: InstrumentedHandler = (req, res) => {
    const start = performance.now();
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const route = match(path);
    const method = methodLabel(req.method);
    const active = context.active();
    const headers = req.headers;
    // Nothing to continue without a trace header: skip the propagators' header parsing.
    const fresh = headers.traceparent === undefined && headers.baggage === undefined;
    const parent = fresh ? active : propagation.extract(active, headers);
    const span = serverSpan(method, route, path, parent, fresh);
    metrics.active++;
    inFlight.add(res);
    const served: Served = { done: false, start, method, path, route, span };
    (res as ServerResponse & { [SERVED]: Served })[SERVED] = served;
    res.on("close", closed);
    // A response queued behind another on its connection (pipelining) has no socket yet, and node:http never
    // closes it if the connection goes first: its connection's end is its end then.
    if (!res.socket && req.socket) {
      served.gone = () => closed.call(res);
      req.socket.once("close", served.gone);
    }
    const handler = isKit.has(route) ? kit : app;
    const sync = syncRoutes.has(route);
    let result: void | Promise<void>;
    try {
      result = sync ? runInSpan(span, handler, req, res) : context.with(trace.setSpan(parent, span), handler, undefined, req, res);
    } catch (error) {
      if (sync) runInSpan(span, (e: unknown) => fail(res, span, path, route, e), error, undefined);
      else context.with(trace.setSpan(parent, span), fail, undefined, res, span, path, route, error);
      return;
    }
    // Only an async handler's promise is waited on (a synchronous one creates none).
    if (result) result.catch((error: unknown) => context.with(trace.setSpan(parent, span), fail, undefined, res, span, path, route, error));
  };
  handler.direct = {
    route: match,
    inFlight,
    begin(method, path, route) {
      const start = performance.now();
      const span = serverSpan(method, route, path, context.active(), true);
      metrics.active++;
      return { done: false, start, method, path, route, span } satisfies Served;
    },
    end(r, status, bytes) {
      record(r as Served, r.method, status, bytes);
    },
  };
  return handler;
}

/** The app's route templates served without the async context (see {@link InstrumentOptions.asyncContext}). */
function asyncContextOff(option: InstrumentOptions["asyncContext"], routes: readonly string[]): ReadonlySet<string> {
  if (option === undefined || option === true) return new Set();
  if (option === false) return new Set(routes);
  for (const route of Object.keys(option)) {
    if (!routes.includes(route)) throw new Error(`asyncContext names route "${route}", which is not one of the handler's routes (${routes.join(", ")})`);
  }
  return new Set(Object.entries(option).filter(([, on]) => !on).map(([route]) => route));
}
