/**
 * The JSON logger: pino, one JSON object per line on stdout (what Alloy ships to Loki), with the active
 * span's trace and span ids on every line logged inside a span, and secrets redacted by key name.
 */
import { trace } from "@opentelemetry/api";
import { pino, type DestinationStream, type Logger } from "pino";
import { redactByKey, SECRET_KEY } from "./redact.ts";

export interface LoggerOptions {
  readonly service: string;
  readonly version?: string;
  /** @default process.env.LOG_LEVEL ?? "info" */
  readonly level?: string;
  /** Extra key names to redact, beside {@link SECRET_KEY}. */
  readonly redactKeys?: readonly string[];
  /** Where lines go. @default stdout, written synchronously (nothing lost when the process exits) */
  readonly destination?: DestinationStream;
}

export function secretKeyPattern(extra: readonly string[] = []): RegExp {
  if (extra.length === 0) return SECRET_KEY;
  const escaped = extra.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`${SECRET_KEY.source}|^(${escaped.join("|")})$`, "i");
}

export function createLogger(opts: LoggerOptions): Logger {
  const secretKey = secretKeyPattern(opts.redactKeys);
  const logger = pino(
    {
      level: opts.level ?? process.env.LOG_LEVEL ?? "info",
      base: { service: opts.service, ...(opts.version ? { version: opts.version } : {}) },
      // ISO time and the level as a word: what Loki's queries and a human read without a lookup table.
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        // Both the logged object and child-logger bindings pass the same redaction.
        log: (obj) => redactByKey(obj, secretKey) as Record<string, unknown>,
        bindings: (b) => redactByKey(b, secretKey) as Record<string, unknown>,
      },
      // Errors are already plain objects (redactByKey walks their fields too); pino's serializer would
      // rename their type to "Object".
      serializers: { err: (e: unknown) => e },
      mixin() {
        const ctx = trace.getActiveSpan()?.spanContext();
        return ctx && ctx.traceId !== "00000000000000000000000000000000" ? { trace_id: ctx.traceId, span_id: ctx.spanId, trace_flags: `0${ctx.traceFlags.toString(16)}` } : {};
      },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: true }),
  );
  // pino formats a child's bindings without the `bindings` formatter, so redact them on the way in; children
  // inherit this method through their prototype, grandchildren included.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, redactByKey(bindings, secretKey) as typeof bindings, options);
  } as Logger["child"];
  return logger;
}
