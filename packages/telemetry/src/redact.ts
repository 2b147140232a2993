/**
 * Redaction by key name, at any depth: a log line never carries the value of a field whose name says it is a
 * secret, wherever in the logged object it sits (`req.headers.authorization`, `config.db.password`, an
 * array of credentials...). pino's own `redact` needs every path spelled out in advance, which misses the
 * nested objects an app logs without thinking; a walk by key catches them.
 */

/** Key names whose values are replaced (case-insensitive, any part of the name). */
export const SECRET_KEY = /passw(or)?d|passphrase|secret|token|api[-_]?key|authorization|cookie|credential|private[-_]?key/i;

/** What a redacted value becomes. */
export const REDACTED = "[redacted]";

/** Deeper than this, objects are cut rather than walked (a log line is no place for them). */
const MAX_DEPTH = 8;

/**
 * A copy of `value` with every value under a key matching `secretKey` replaced by {@link REDACTED}.
 * Errors become plain objects (type, message, stack and their own fields, walked too); cycles and depth
 * beyond {@link MAX_DEPTH} are cut. Values that are neither objects nor arrays come back as they are.
 */
export function redactByKey(value: unknown, secretKey: RegExp = SECRET_KEY): unknown {
  const seen = new WeakSet<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v !== "object") return v;
    if (seen.has(v)) return "[circular]";
    if (depth > MAX_DEPTH) return "[too deep]";
    seen.add(v);
    try {
      if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
      if (Buffer.isBuffer(v) || v instanceof Date || v instanceof RegExp) return v;
      const out: Record<string, unknown> = {};
      if (v instanceof Error) {
        out.type = v.name;
        out.message = v.message;
        out.stack = v.stack;
        if (v.cause !== undefined) out.cause = walk(v.cause, depth + 1);
      }
      for (const [k, x] of Object.entries(v)) out[k] = secretKey.test(k) ? REDACTED : walk(x, depth + 1);
      return out;
    } finally {
      seen.delete(v);
    }
  };
  return walk(value, 0);
}
