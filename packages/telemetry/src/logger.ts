/**
 * The JSON logger: pino, one JSON object per line on stdout (what Alloy ships to Loki), with the active
 * span's trace and span ids on every line logged inside a span, and secrets redacted by key name.
 */
import { pino, type DestinationStream, type Logger } from "pino";
import { currentSpan } from "./current.ts";
import { redactByKey, SECRET_KEY } from "./redact.ts";
import { stdoutLines } from "./stdout.ts";

export interface LoggerOptions {
  readonly service: string;
  readonly version?: string;
  /** @default process.env.LOG_LEVEL ?? "info" */
  readonly level?: string;
  /** Extra key names to redact, beside {@link SECRET_KEY}. */
  readonly redactKeys?: readonly string[];
  /** Where lines go. @default stdout, batched per event-loop turn and written on exit (see stdout.ts) */
  readonly destination?: DestinationStream;
}

export function secretKeyPattern(extra: readonly string[] = []): RegExp {
  if (extra.length === 0) return SECRET_KEY;
  const escaped = extra.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`${SECRET_KEY.source}|^(${escaped.join("|")})$`, "i");
}

let lastMs = -1;
let lastIso = "";

/** `new Date().toISOString()`, made once per millisecond: a busy server logs many lines in the same one. */
export function isoNow(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

const isoTimeField = () => `,"time":"${isoNow()}"`;

export function createLogger(opts: LoggerOptions): Logger {
  const secretKey = secretKeyPattern(opts.redactKeys);
  const logger = pino(
    {
      level: opts.level ?? process.env.LOG_LEVEL ?? "info",
      base: { service: opts.service, ...(opts.version ? { version: opts.version } : {}) },
      // ISO time and the level as a word: what Loki's queries and a human read without a lookup table.
      timestamp: isoTimeField,
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
        const ctx = currentSpan()?.spanContext();
        return ctx && ctx.traceId !== INVALID_TRACE_ID ? { trace_id: ctx.traceId, span_id: ctx.spanId, trace_flags: `0${ctx.traceFlags.toString(16)}` } : {};
      },
    },
    opts.destination ?? stdoutLines(),
  );
  // pino formats a child's bindings without the `bindings` formatter, so redact them on the way in; children
  // inherit this method through their prototype, grandchildren included.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, redactByKey(bindings, secretKey) as typeof bindings, options);
  } as Logger["child"];
  return logger;
}

/** The fields of an access line, beside the trace ids. */
export interface AccessFields {
  readonly method: string;
  readonly path: string;
  readonly route: string;
  readonly status: number;
  readonly ms: number;
  /** Omitted when 0 (a 304, a HEAD) or unknown. */
  readonly bytes: number;
}

/**
 * The access line of a request, exactly as `logger[level]({ method, path, route, status, ms, bytes }, "request")`
 * inside the request's span would write it (same keys in the same order, the same time and level format, the
 * logger's base fields and the span's ids), but written straight to the logger's destination: pino's generic
 * path (mixin, formatters, redaction walk, serializers) cost several times what serving a static file does,
 * for a line whose keys are fixed and none of them a secret's. Honours the logger's level at each call.
 */
export function accessLogger(logger: Logger, level: "info" | "debug"): (f: AccessFields, traceId: string, spanId: string, traceFlags: number) => void {
  const own = logger as unknown as Record<symbol, unknown>;
  const stream = own[pino.symbols.streamSym] as DestinationStream;
  const levelValue = logger.levels.values[level]!;
  // `{"level":"info","time":"…"` then the logger's bindings as pino wrote them once: `,"service":"site",…`.
  const head = `{"level":"${level}","time":"`;
  const bindings = own[pino.symbols.chindingsSym] as string;
  return (f, traceId, spanId, traceFlags) => {
    if (logger.levelVal > levelValue) return;
    const ids = traceId === INVALID_TRACE_ID ? "" : `,"trace_id":"${traceId}","span_id":"${spanId}","trace_flags":"0${traceFlags.toString(16)}"`;
    const bytes = f.bytes ? `,"bytes":${f.bytes}` : "";
    stream.write(
      `${head}${isoNow()}"${bindings}${ids},"method":${JSON.stringify(f.method)},"path":${JSON.stringify(f.path)},"route":${JSON.stringify(f.route)},"status":${f.status},"ms":${f.ms}${bytes},"msg":"request"}\n`,
    );
  };
}

const INVALID_TRACE_ID = "00000000000000000000000000000000";
