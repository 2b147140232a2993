/**
 * @sky-palette/telemetry: one call, {@link createTelemetry}, gives a Node app of the homelab
 *   - a pino JSON logger (trace and span ids on every line logged while a request is served, secrets
 *     redacted by key name at any depth),
 *   - a prom-client registry with Node's default process metrics and the HTTP RED metrics
 *     (`http_server_request_duration_seconds{method,route,status_code}`, route templates only),
 *   - the OpenTelemetry Node SDK, spans to stdout as JSON lines, to OTLP when an endpoint is configured,
 *   - `/metrics`, `/healthz` and `/readyz`, served by {@link Telemetry.handler} in front of the app, or
 *     `/metrics` on a port of its own ({@link Telemetry.listenMetrics}) that no Service exposes,
 *   - graceful shutdown on SIGTERM/SIGINT within the pod's grace period ({@link Telemetry.serve}).
 * See packages/telemetry/README.md.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Tracer } from "@opentelemetry/api";
import type { DestinationStream, Logger } from "pino";
import type { Registry } from "prom-client";
import { instrument, serveKitEndpoint, type Handler, type InstrumentedHandler, type InstrumentOptions, type ReadinessCheck } from "./http.ts";
import { createLogger } from "./logger.ts";
import { createRegistry, type HttpMetrics } from "./metrics.ts";
import { drainer, InFlight } from "./shutdown.ts";
import { flushStdout } from "./stdout.ts";
import { startTracing } from "./tracing.ts";

export { DURATION_BUCKETS, DURATION_METRIC, RequestDurationHistogram } from "./metrics.ts";
export { HEALTHZ_PATH, METRICS_PATH, READYZ_PATH, type DirectRequest, type DirectRequests, type Handler, type InstrumentedHandler, type InstrumentOptions, type ReadinessCheck } from "./http.ts";
export type { InFlight } from "./shutdown.ts";
export { REDACTED, SECRET_KEY, redactByKey } from "./redact.ts";
export { UNMATCHED, methodLabel, routeMatcher } from "./routes.ts";
export { JsonLineSpanExporter, kitSampler, otlpTracesUrl } from "./tracing.ts";
export { BatchedLines } from "./stdout.ts";
export { drainer } from "./shutdown.ts";

export interface TelemetryOptions {
  /** `service` on every log line, metric and span (OTel `service.name`). */
  readonly service: string;
  readonly version?: string;
  /** Read for `LOG_LEVEL`, `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default env.LOG_LEVEL ?? "info" */
  readonly logLevel?: string;
  /** Key names to redact beside the built-in pattern (password, token, secret, api key, authorization, cookie...). */
  readonly redactKeys?: readonly string[];
  /** Where log lines go. @default stdout */
  readonly logDestination?: DestinationStream;
  /** Where stdout-exported spans go. @default stdout */
  readonly spanWrite?: (line: string) => void;
}

export interface ServeOptions {
  /**
   * The pod's `terminationGracePeriodSeconds` in ms: requests in flight get until 5 s before it, telemetry
   * is flushed, and the process exits at the latest 1 s before it.
   * @default env.SHUTDOWN_GRACE_MS ?? 30_000
   */
  readonly gracePeriodMs?: number;
  /** @default ["SIGTERM", "SIGINT"] */
  readonly signals?: readonly NodeJS.Signals[];
  /** Exit the process once shut down (false in tests that drive {@link Serving.shutdown}). @default true */
  readonly exit?: boolean;
}

export interface Serving {
  /** Drains the server, flushes telemetry; resolves true when no request was cut short. */
  shutdown(reason?: string): Promise<boolean>;
  /** Requests being served now. */
  inFlight(): number;
}

export interface Telemetry {
  readonly logger: Logger;
  readonly registry: Registry;
  readonly http: HttpMetrics;
  readonly tracer: Tracer;
  /** `stdout` or the OTLP traces URL spans go to. */
  readonly traceExporter: string;
  /**
   * Wraps the app's handler: kit endpoints first, then the app, each request measured, traced and logged.
   * Its `direct` gives the same to requests a fast path answers without node:http.
   */
  handler(app: Handler, opts: InstrumentOptions): InstrumentedHandler;
  /**
   * Serves `/metrics`, `/healthz` and `/readyz` (nothing else: 404) on a listener of their own, for Prometheus
   * and the kubelet on a port that no Service or Ingress exposes; pair it with `metricsEndpoint: false` in
   * {@link Telemetry.handler}. Requests to it are not traced, logged or counted. Closed by the shutdown.
   */
  listenMetrics(port: number, host?: string): Promise<AddressInfo>;
  /** /readyz answers 200 only while ready and every check passes. Ready from the start; false after shutdown. */
  setReady(ready: boolean): void;
  addReadinessCheck(check: ReadinessCheck): void;
  /** Graceful shutdown of `server` on the given signals. */
  serve(server: Server, opts?: ServeOptions): Serving;
  /** Closes the metrics listener, exports buffered spans, writes buffered log lines and stops the SDK (idempotent). */
  flush(): Promise<void>;
}

export function createTelemetry(opts: TelemetryOptions): Telemetry {
  const env = opts.env ?? process.env;
  const logger = createLogger({ service: opts.service, version: opts.version, level: opts.logLevel ?? env.LOG_LEVEL, redactKeys: opts.redactKeys, destination: opts.logDestination });
  const { registry, http } = createRegistry(opts.service, opts.version);
  const tracing = startTracing({ service: opts.service, version: opts.version, env, write: opts.spanWrite });
  let ready = true;
  // The responses each handler made by this kit tracks itself, for serve()'s drain.
  const handlers = new WeakMap<Function, InFlight>();
  const checks: ReadinessCheck[] = [];
  let flushed: Promise<void> | undefined;
  let metricsServer: Server | undefined;
  const closeMetrics = () => {
    metricsServer?.closeAllConnections();
    metricsServer?.close();
    metricsServer = undefined;
  };
  const flush = () =>
    (flushed ??= (async () => {
      closeMetrics();
      try {
        await tracing.shutdown();
      } catch (error) {
        logger.warn({ err: error }, "flushing spans failed");
      }
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
      flushStdout();
    })());
  const telemetry: Telemetry = {
    logger,
    registry,
    http,
    tracer: tracing.tracer,
    traceExporter: tracing.exporter,
    handler: (app, iopts) => {
      const inFlight = new InFlight();
      const h = instrument(app, iopts, { logger, tracer: tracing.tracer, registry, metrics: http, isReady: () => ready, checks, setRouteRatio: tracing.setRouteRatio, unsampledRoot: tracing.unsampledRoot, inFlight });
      handlers.set(h, inFlight);
      return h;
    },
    listenMetrics(port, host) {
      const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000 }, (req, res) => {
        const url = req.url ?? "/";
        const q = url.indexOf("?");
        serveKitEndpoint(q < 0 ? url : url.slice(0, q), req, res, { registry, logger, isReady: () => ready, checks }).catch((error: unknown) => {
          logger.error({ err: error }, "metrics endpoint failed");
          if (!res.headersSent) res.writeHead(500).end();
          else res.destroy();
        });
      });
      metricsServer = server;
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    setReady: (r) => {
      ready = r;
    },
    addReadinessCheck: (c) => {
      checks.push(c);
    },
    flush,
    serve(server, sopts = {}) {
      const grace = sopts.gracePeriodMs ?? (Number(env.SHUTDOWN_GRACE_MS) || 30_000);
      // A server whose one request listener is this kit's handler: the handler tracks its responses itself
      // (a handler shared by several servers would make each drain wait for all of their requests).
      const listeners = server.listeners("request");
      const tracked = listeners.length === 1 ? handlers.get(listeners[0] as Function) : undefined;
      const { drain, inFlight } = drainer(server, { drainTimeoutMs: Math.max(grace - 5_000, grace / 2), ...(tracked && { inFlight: tracked }) });
      let stopping: Promise<boolean> | undefined;
      const shutdown = (reason = "shutdown") =>
        (stopping ??= (async () => {
          ready = false;
          const inFlightNow = inFlight();
          // drain() closes the listener before it returns: once this line is out, connections are refused.
          const drained = drain();
          logger.info({ reason, in_flight: inFlightNow }, "shutting down: draining requests");
          const clean = await drained;
          // Scraped until the app's requests are drained; then nothing is left to report.
          closeMetrics();
          logger.info({ clean }, "drained; flushing telemetry");
          await flush();
          return clean;
        })());
      for (const signal of sopts.signals ?? ["SIGTERM", "SIGINT"]) {
        process.once(signal, () => {
          // Whatever happens, be gone before the kubelet's SIGKILL.
          setTimeout(() => process.exit(1), Math.max(grace - 1_000, 0)).unref();
          void shutdown(signal).then((clean) => {
            if (sopts.exit !== false) process.exit(clean ? 0 : 1);
          });
        });
      }
      return { shutdown, inFlight };
    },
  };
  return telemetry;
}
