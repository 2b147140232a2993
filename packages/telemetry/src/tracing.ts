/**
 * Traces: the OpenTelemetry trace SDK with W3C trace-context propagation and an AsyncLocalStorage context
 * (what the Node SDK sets up for traces, without the rest of it: `@opentelemetry/sdk-node` loads every
 * metrics, logs and trace exporter it might be configured for, some 25 MiB of a small server's memory). Spans
 * go to stdout as one JSON object per line (beside the logs, so Alloy ships both; no tracing backend is
 * deployed yet), or to an OTLP endpoint over HTTP as soon as `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `..._TRACES_ENDPOINT`) is set; that exporter is loaded only then.
 * Which traces are kept is the sampler's decision, see {@link kitSampler}.
 */
import { context, propagation, trace, type Attributes, type Context, type Link, type SpanContext, type SpanKind, type Tracer } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, ExportResultCode, hrTimeToMicroseconds, W3CBaggagePropagator, W3CTraceContextPropagator, type ExportResult } from "@opentelemetry/core";
import { detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  RandomIdGenerator,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type IdGenerator,
  type ReadableSpan,
  type Sampler,
  type SamplingResult,
  type SpanExporter,
} from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import { stdoutLines } from "./stdout.ts";

/** Writes each finished span as one JSON line (the console exporter's multi-line dumps would break log parsing). */
export class JsonLineSpanExporter implements SpanExporter {
  constructor(private readonly write: (line: string) => void = (l) => stdoutLines().write(l)) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    try {
      let out = "";
      for (const s of spans) {
        const ctx = s.spanContext();
        out +=
          JSON.stringify({
            span: s.name,
            trace_id: ctx.traceId,
            span_id: ctx.spanId,
            parent_span_id: s.parentSpanContext?.spanId,
            kind: s.kind,
            start_us: hrTimeToMicroseconds(s.startTime),
            duration_us: hrTimeToMicroseconds(s.duration),
            status: s.status,
            attributes: s.attributes,
            events: s.events.length ? s.events.map((e) => ({ name: e.name, attributes: e.attributes })) : undefined,
            service: s.resource.attributes[ATTR_SERVICE_NAME],
          }) + "\n";
      }
      this.write(out);
      done({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  async shutdown(): Promise<void> {}
}

export interface TracingOptions {
  readonly service: string;
  readonly version?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Where stdout spans go (tests). @default stdout */
  readonly write?: (line: string) => void;
}

export interface Tracing {
  readonly tracer: Tracer;
  /** `stdout` or the OTLP traces URL. */
  readonly exporter: string;
  /** The fraction of new traces kept for requests of a route template (see {@link kitSampler}). */
  setRouteRatio(route: string, ratio: number): void;
  /** See {@link UnsampledRoot}. */
  readonly unsampledRoot: UnsampledRoot;
  /** Exports what is buffered, then stops the SDK and releases the global API for a later start. */
  shutdown(): Promise<void>;
}

export function otlpTracesUrl(env: NodeJS.ProcessEnv): string | undefined {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (specific) return specific;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined;
}

/**
 * The decision for a new trace (no caller's context) of a route with a ratio, taken without the SDK: the ids
 * of a trace not kept, for a non-recording span (what the SDK would make of it, less its sampler call, span
 * object, attributes and end processing: most requests of a route sampled at 1 %); or undefined when the SDK
 * is to start the span (the route keeps every trace, `OTEL_TRACES_SAMPLER` decides, or the trace is kept; then
 * the SDK's next root span gets the very trace id decided on, so its sampler agrees).
 */
export type UnsampledRoot = (route: string) => SpanContext | undefined;

/** Two hex digits per byte value. */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Hex of a uint32, 8 digits (by bytes from a table: six of these per request, `toString(16)` showed in profiles). */
function hex8(n: number): string {
  return HEX[n >>> 24]! + HEX[(n >>> 16) & 255]! + HEX[(n >>> 8) & 255]! + HEX[n & 255]!;
}

/** A random uint32 (Math.random, as the SDK's RandomIdGenerator: ids are not secrets). */
function rand32(): number {
  return (Math.random() * 0x100000000) >>> 0;
}

/** The SDK's id generator, but the next root span's trace id can be set beforehand (see {@link UnsampledRoot}). */
class KitIdGenerator implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  next: string | undefined;

  generateTraceId(): string {
    const id = this.next;
    if (id === undefined) return this.random.generateTraceId();
    this.next = undefined;
    return id;
  }

  generateSpanId(): string {
    return this.random.generateSpanId();
  }
}

/**
 * {@link UnsampledRoot} over the route sampler's ratios. The decision is TraceIdRatioBasedSampler's on the same
 * trace id (the XOR of its four 32-bit words below ratio × 0xffffffff), so a trace is kept or not exactly as
 * the SDK would decide it.
 */
function unsampledRoot(byRoute: RouteRatioSampler | undefined, ids: KitIdGenerator): UnsampledRoot {
  return (route) => {
    const bound = byRoute?.bounds.get(route);
    if (bound === undefined) return undefined;
    // Never the invalid all-zero id.
    const a = rand32() || 1;
    const b = rand32();
    const c = rand32();
    const d = rand32();
    const traceId = hex8(a) + hex8(b) + hex8(c) + hex8(d);
    if ((a ^ b ^ c ^ d) >>> 0 < bound) {
      ids.next = traceId;
      return undefined;
    }
    return { traceId, spanId: hex8(rand32() || 1) + hex8(rand32()), traceFlags: 0 };
  };
}

/** The span attribute the kit's server spans carry their route template in. */
export const ROUTE_ATTRIBUTE = "http.route";

/**
 * Head sampling by route: a new trace (no sampled caller upstream) of a request whose route template has a
 * ratio is kept with that probability (by trace id, so every service would decide alike), anything else is
 * kept. Spans not kept still carry their trace and span ids (the log lines of the request show them, with
 * `trace_flags` 00); they are just not exported. A caller's sampled `traceparent` is always followed.
 */
export class RouteRatioSampler implements Sampler {
  readonly ratios = new Map<string, Sampler>();
  /** TraceIdRatioBasedSampler's bound of each ratio: a trace id whose words XOR below it is kept. */
  readonly bounds = new Map<string, number>();

  setRatio(route: string, ratio: number): void {
    if (ratio === 1) {
      this.ratios.delete(route);
      this.bounds.delete(route);
    } else {
      this.ratios.set(route, new TraceIdRatioBasedSampler(ratio));
      this.bounds.set(route, Math.floor(ratio * 0xffffffff));
    }
  }

  shouldSample(ctx: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    const route = attributes[ROUTE_ATTRIBUTE];
    const by = typeof route === "string" ? this.ratios.get(route) : undefined;
    return by ? by.shouldSample(ctx, traceId, name, kind, attributes, links) : { decision: SamplingDecision.RECORD_AND_SAMPLED };
  }

  toString(): string {
    return `RouteRatioSampler{${[...this.ratios].map(([r, s]) => `${r}=${s}`).join(",")}}`;
  }
}

/**
 * The sampler: `OTEL_TRACES_SAMPLER` (and `OTEL_TRACES_SAMPLER_ARG`) when set, with the standard values
 * (`always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off`,
 * `parentbased_traceidratio`); else parent-based, new traces kept by route ({@link RouteRatioSampler}).
 */
export function kitSampler(env: NodeJS.ProcessEnv): { sampler: Sampler; byRoute?: RouteRatioSampler } {
  const name = env.OTEL_TRACES_SAMPLER?.trim();
  if (!name) {
    const byRoute = new RouteRatioSampler();
    return { sampler: new ParentBasedSampler({ root: byRoute }), byRoute };
  }
  const arg = Number(env.OTEL_TRACES_SAMPLER_ARG ?? 1);
  const ratio = () => {
    if (!(arg >= 0 && arg <= 1)) throw new Error(`OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1, got "${env.OTEL_TRACES_SAMPLER_ARG}"`);
    return new TraceIdRatioBasedSampler(arg);
  };
  switch (name) {
    case "always_on":
      return { sampler: new AlwaysOnSampler() };
    case "always_off":
      return { sampler: new AlwaysOffSampler() };
    case "traceidratio":
      return { sampler: ratio() };
    case "parentbased_always_on":
      return { sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }) };
    case "parentbased_always_off":
      return { sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }) };
    case "parentbased_traceidratio":
      return { sampler: new ParentBasedSampler({ root: ratio() }) };
    default:
      throw new Error(`OTEL_TRACES_SAMPLER "${name}" is not one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio`);
  }
}

/** The OTLP/HTTP exporter, imported at the first export: a server that exports to stdout never loads it. */
class LazyOtlpExporter implements SpanExporter {
  private exporter: Promise<SpanExporter> | undefined;

  constructor(private readonly url: string) {}

  private load(): Promise<SpanExporter> {
    return (this.exporter ??= import("@opentelemetry/exporter-trace-otlp-http").then(({ OTLPTraceExporter }) => new OTLPTraceExporter({ url: this.url })));
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.load().then(
      (e) => e.export(spans, done),
      (error: unknown) => done({ code: ExportResultCode.FAILED, error: error as Error }),
    );
  }

  async forceFlush(): Promise<void> {
    if (this.exporter) await (await this.exporter).forceFlush?.();
  }

  async shutdown(): Promise<void> {
    if (this.exporter) await (await this.exporter).shutdown();
  }
}

/**
 * The SDK registers itself with the global OpenTelemetry API, of which a process has one: a second kit in the
 * same process (tests, an app with two servers) shares the first one's SDK, and the last to shut down stops it.
 */
let shared: { provider: TracerProvider; processor: BatchSpanProcessor; exporter: string; byRoute?: RouteRatioSampler; unsampledRoot: UnsampledRoot; refs: number } | undefined;

export function startTracing(opts: TracingOptions): Tracing {
  if (!shared) {
    const env = opts.env ?? process.env;
    const url = otlpTracesUrl(env);
    const exporter: SpanExporter = url ? new LazyOtlpExporter(url) : new JsonLineSpanExporter(opts.write);
    // A dead OTLP endpoint must not hold shutdown past the grace period: 5 s per export at most.
    const processor = new BatchSpanProcessor({ exporter, exportTimeoutMillis: 5_000 });
    const { sampler, byRoute } = kitSampler(env);
    // OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME apply over the kit's; host and process detectors would only add noise.
    const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.service, ...(opts.version ? { [ATTR_SERVICE_VERSION]: opts.version } : {}) }).merge(detectResources({ detectors: [envDetector] }));
    const ids = new KitIdGenerator();
    const provider = new TracerProvider({ resource, sampler, spanProcessors: [processor], idGenerator: ids });
    const contextManager = new AsyncLocalStorageContextManager();
    contextManager.enable();
    context.setGlobalContextManager(contextManager);
    propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
    trace.setGlobalTracerProvider(provider);
    shared = { provider, processor, exporter: url ?? "stdout", ...(byRoute && { byRoute }), unsampledRoot: unsampledRoot(byRoute, ids), refs: 0 };
  }
  const mine = shared;
  mine.refs++;
  let stopped = false;
  return {
    tracer: trace.getTracer(opts.service, opts.version),
    exporter: mine.exporter,
    unsampledRoot: mine.unsampledRoot,
    setRouteRatio(route, ratio) {
      if (!(ratio >= 0 && ratio <= 1)) throw new Error(`trace ratio of route "${route}" must be between 0 and 1, got ${ratio}`);
      // An operator's OTEL_TRACES_SAMPLER overrides the app's ratios.
      mine.byRoute?.setRatio(route, ratio);
    },
    async shutdown() {
      if (stopped) return;
      stopped = true;
      if (--mine.refs > 0) {
        await mine.processor.forceFlush();
        return;
      }
      if (shared === mine) shared = undefined;
      await mine.provider.shutdown();
      // A later start (tests; a restart in-process) may register again.
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
