/**
 * How sops (Go, yaml.v3) types an unquoted YAML scalar. It differs from YAML 1.2 core in ways that
 * change the `type:` tag and the MAC: `0755` is octal, `1_000` is an int, `08` is a float, `yes` is a
 * string and timestamps stay strings. Both directions use this table so what we write reads back
 * the same in sops.
 */
import { FloatValue, IntValue, type Scalar } from "./tree.ts";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const FLOAT_RE = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

const FIXED: ReadonlyMap<string, Scalar | null> = new Map<string, Scalar | null>([
  ...["true", "True", "TRUE"].map((s) => [s, true] as const),
  ...["false", "False", "FALSE"].map((s) => [s, false] as const),
  ...["", "~", "null", "Null", "NULL"].map((s) => [s, null] as const),
  ...[".nan", ".NaN", ".NAN"].map((s) => [s, new FloatValue(NaN)] as const),
  ...[".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"].map((s) => [s, new FloatValue(Infinity)] as const),
  ...["-.inf", "-.Inf", "-.INF"].map((s) => [s, new FloatValue(-Infinity)] as const),
]);

/** Go's `strconv.ParseInt(s, 0, 64)` / `ParseUint` with base prefixes (0x, 0o, 0b, leading 0). */
function parseGoInt(s: string): bigint | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const [, sign, body] = m as unknown as [string, string, string];
  let n: bigint;
  if (/^0[oO]/.test(body)) n = BigInt("0o" + body.slice(2));
  else if (/^0[0-7]+$/.test(body)) n = BigInt("0o" + body.slice(1));
  else n = BigInt(body);
  if (sign === "-") n = -n;
  // ParseInt covers int64; ParseUint (unsigned, no sign allowed) covers the rest up to 2^64-1.
  const max = sign === "" ? UINT64_MAX : INT64_MAX;
  if (n < INT64_MIN || n > max) return undefined;
  return n;
}

/** Types an unquoted scalar's source text the way yaml.v3 decodes it into `interface{}`. */
export function resolvePlainScalar(src: string): Scalar | null {
  if (FIXED.has(src)) return FIXED.get(src)!;
  const c = src[0];
  if (c === ".") {
    const n = Number(src);
    if (FLOAT_RE.test(src) && Number.isFinite(n)) return new FloatValue(n);
    return src;
  }
  if (c === undefined || !"+-0123456789".includes(c)) return src;
  // Timestamps are decoded as strings into interface{}, so any YYYY- prefix stays text.
  if (/^\d{4}-/.test(src)) return src;
  const plain = src.replace(/_/g, "");
  const i = parseGoInt(plain);
  if (i !== undefined) return new IntValue(i);
  if (FLOAT_RE.test(plain)) {
    const n = Number(plain);
    if (Number.isFinite(n)) return new FloatValue(n);
  }
  return src;
}

/**
 * True when a string written unquoted would be read back as something else: by sops, or as a
 * timestamp by YAML 1.1 readers (yaml.v3 quotes those too, e.g. `lastmodified`).
 */
export function needsQuotes(s: string): boolean {
  return typeof resolvePlainScalar(s) !== "string" || s === "<<" || /^\d{4}-\d\d?-\d\d?(?:[Tt\s]|$)/.test(s) || goFloatOnly(s);
}

/**
 * Spellings that only Go's `strconv.ParseFloat` takes for a number, which kubectl's YAML reader
 * (go-yaml v2) tries on any plain scalar starting with a digit or a sign, after dropping `_`: signed
 * infinities and NaN, hexadecimal floats (`0x1p-2`).
 */
function goFloatOnly(s: string): boolean {
  const c = s[0];
  if (c === undefined || !"+-0123456789".includes(c)) return false;
  const t = s.replace(/_/g, "");
  return /^[+-](?:inf|infinity|nan)$/i.test(t) || /^[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+$/.test(t);
}

/** YAML text of a float that reads back as a float (never as an int). */
export function yamlFloat(v: number): string {
  if (Number.isNaN(v)) return ".nan";
  if (v === Infinity) return ".inf";
  if (v === -Infinity) return "-.inf";
  const s = String(v);
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}
