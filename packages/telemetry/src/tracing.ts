/**
 * Traces: the OpenTelemetry Node SDK with W3C trace-context propagation. Spans go to stdout as one JSON
 * object per line (beside the logs, so Alloy ships both; no tracing backend is deployed yet), or to an OTLP
 * endpoint over HTTP as soon as `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set.
 */
import { context, propagation, trace, type Tracer } from "@opentelemetry/api";
import { ExportResultCode, hrTimeToMicroseconds, type ExportResult } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";

/** Writes each finished span as one JSON line (the console exporter's multi-line dumps would break log parsing). */
export class JsonLineSpanExporter implements SpanExporter {
  constructor(private readonly write: (line: string) => void = (l) => process.stdout.write(l)) {}

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
  /** Where stdout spans go (tests). @default process.stdout */
  readonly write?: (line: string) => void;
}

export interface Tracing {
  readonly tracer: Tracer;
  /** `stdout` or the OTLP traces URL. */
  readonly exporter: string;
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
 * The SDK registers itself with the global OpenTelemetry API, of which a process has one: a second kit in the
 * same process (tests, an app with two servers) shares the first one's SDK, and the last to shut down stops it.
 */
let shared: { sdk: NodeSDK; processor: BatchSpanProcessor; exporter: string; refs: number } | undefined;

export function startTracing(opts: TracingOptions): Tracing {
  if (!shared) {
    const env = opts.env ?? process.env;
    const url = otlpTracesUrl(env);
    const exporter: SpanExporter = url ? new OTLPTraceExporter({ url }) : new JsonLineSpanExporter(opts.write);
    // A dead OTLP endpoint must not hold shutdown past the grace period: 5 s per export at most.
    const processor = new BatchSpanProcessor({ exporter, exportTimeoutMillis: 5_000 });
    const sdk = new NodeSDK({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.service, ...(opts.version ? { [ATTR_SERVICE_VERSION]: opts.version } : {}) }),
      // OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME apply; host and process detectors would only add noise.
      resourceDetectors: [envDetector],
      spanProcessors: [processor],
      // The SDK defaults metrics and logs to OTLP on localhost: metrics are Prometheus' (prom-client), logs stdout's.
      metricReaders: [],
      logRecordProcessors: [],
    });
    sdk.start();
    shared = { sdk, processor, exporter: url ?? "stdout", refs: 0 };
  }
  const mine = shared;
  mine.refs++;
  let stopped = false;
  return {
    tracer: trace.getTracer(opts.service, opts.version),
    exporter: mine.exporter,
    async shutdown() {
      if (stopped) return;
      stopped = true;
      if (--mine.refs > 0) {
        await mine.processor.forceFlush();
        return;
      }
      if (shared === mine) shared = undefined;
      await mine.sdk.shutdown();
      // A later start (tests; a restart in-process) may register again.
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
