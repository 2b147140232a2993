/**
 * The span a log line belongs to. Normally the active span of OpenTelemetry's context (AsyncLocalStorage:
 * it follows a request across awaits). A route served without the async context (`asyncContext: false` in
 * the kit's handler options: a handler that answers synchronously) has its span here instead, for exactly
 * the synchronous run of its handler: the log lines it writes meanwhile carry the span's ids.
 */
import { trace, type Span } from "@opentelemetry/api";

let syncSpan: Span | undefined;

/** The span the current log line belongs to: the active context's, else the synchronously running handler's. */
export function currentSpan(): Span | undefined {
  return trace.getActiveSpan() ?? syncSpan;
}

/** Runs `fn(a, b)` with `span` as {@link currentSpan} for its synchronous part, without entering a context. */
export function runInSpan<A, B, R>(span: Span, fn: (a: A, b: B) => R, a: A, b: B): R {
  const previous = syncSpan;
  syncSpan = span;
  try {
    return fn(a, b);
  } finally {
    syncSpan = previous;
  }
}
