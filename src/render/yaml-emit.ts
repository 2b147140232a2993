/**
 * A fast writer for the YAML `toYaml` produces, byte for byte. The `yaml` library builds a node for every
 * value, visits them all and then stringifies the tree; for a 1000-app build that was most of the render
 * (4.5 of 7 s). The rendered objects are plain JSON data laid out in one fixed style (block maps and
 * sequences, two spaces, `- ` items), so the layout is written here directly, and only the one thing with
 * many rules — how a scalar is spelled (plain, quoted, a block literal) — is asked of the library, once per
 * distinct scalar, through the reference writer itself. Anything that is not plain JSON data (undefined,
 * Dates, Maps, class instances, a key the library writes as `? key`) returns undefined and the caller uses
 * the reference writer for the whole document. test/render/yaml-emit.test.ts compares both on generated
 * documents and on every rendered file.
 */
import { needsQuotes } from "../secrets/yaml-scalars.ts";

/** The reference: the `yaml` library's output for a whole document (render.ts's `toYamlReference`). */
export type ReferenceWriter = (doc: unknown) => string;

/** Thrown inside the writer when the document needs the reference writer. */
class NotPlain extends Error {}

/**
 * Plain in YAML 1.1 and 1.2 for every reader the render cares about: starts with a letter, holds only
 * letters, digits and `. _ / -`, and is none of YAML 1.1's boolean or null words nor its exponent-only float
 * (`e5`, `E-3`). Every other number, timestamp, sexagesimal and Go float spelling starts with a digit, a sign
 * or a dot, so none passes. Anything else is spelled by the reference writer (and cached).
 */
const SIMPLE = /^[A-Za-z][A-Za-z0-9._/-]*$/;
const YAML11_WORDS = new Set(
  ["y", "yes", "n", "no", "true", "false", "on", "off", "null"].flatMap((w) => [w, w.toUpperCase(), w[0]!.toUpperCase() + w.slice(1)]),
);

function simple(s: string): boolean {
  return s.length <= 200 && SIMPLE.test(s) && !YAML11_WORDS.has(s) && !/^[eE]-?[0-9]+$/.test(s);
}

/**
 * A value (never a key) the library also writes plain, though `simple` refuses it: a letter first, then
 * printable ASCII, with none of `: ` and ` #`, not ending in a space or `:`. In a block map or list the
 * library quotes or folds a string only for a control character, an indicator first, one of those pairs or
 * that ending, a document marker at a line start, a spelling another YAML 1.1 type reads (letter-first: its
 * boolean and null words and the exponent-only float, as in `simple`) or a line width, which is off (0).
 * Image references (`git.example/app:1.0`) and PromQL expressions are such values: 2,000 of the 3,300
 * scalars the reference was asked about at 1000 apps.
 */
function plainValue(s: string): boolean {
  return (
    s.length <= 1024 &&
    /^[A-Za-z][\x20-\x7e]*$/.test(s) &&
    !s.includes(": ") &&
    !s.includes(" #") &&
    !/[ :]$/.test(s) &&
    !YAML11_WORDS.has(s) &&
    !/^[eE][-+]?[0-9]+$/.test(s)
  );
}

/** Only short scalars are cached: long ones (dashboards' JSON) are rare and would only fill memory. */
const CACHE_LIMIT = 50_000;
const CACHED_LENGTH = 512;

export class YamlEmitter {
  private readonly values = new Map<unknown, string>();
  private readonly keys = new Map<string, string>();
  private readonly topKeys = new Map<string, string>();

  constructor(private readonly reference: ReferenceWriter) {}

  /** The document's YAML, or undefined when only the reference writer can write it. */
  write(doc: unknown): string | undefined {
    try {
      if (isPlainRecord(doc)) return Object.keys(doc).length ? this.map(doc, 0) : undefined;
      if (Array.isArray(doc)) return doc.length ? this.seq(doc, 0) : undefined;
      return undefined;
    } catch (err) {
      if (err instanceof NotPlain) return undefined;
      throw err;
    }
  }

  /** A map's entries; the first line carries no indentation (the caller placed it), the others `col` spaces. */
  private map(o: Record<string, unknown>, col: number): string {
    let out = "";
    let first = true;
    const pad = " ".repeat(col);
    for (const k of Object.keys(o)) {
      const v = o[k];
      if (!first) out += pad;
      first = false;
      out += this.key(k, col);
      out += this.after(v, col, ":");
    }
    return out;
  }

  private seq(a: readonly unknown[], col: number): string {
    let out = "";
    const pad = " ".repeat(col);
    for (let i = 0; i < a.length; i++) {
      if (!(i in a)) throw new NotPlain();
      if (i > 0) out += pad;
      out += "-";
      out += this.after(a[i], col, "");
    }
    return out;
  }

  /** What follows a key's `:` or an item's `-` for value `v`, whose key or dash starts at column `col`. */
  private after(v: unknown, col: number, colon: string): string {
    if (Array.isArray(v)) {
      if (v.length === 0) return `${colon} []\n`;
      // A sequence under a key is indented by two; under a dash it starts on the same line.
      return colon ? `${colon}\n${" ".repeat(col + 2)}${this.seq(v, col + 2)}` : ` ${this.seq(v, col + 2)}`;
    }
    if (isPlainRecord(v)) {
      if (Object.keys(v).length === 0) return `${colon} {}\n`;
      return colon ? `${colon}\n${" ".repeat(col + 2)}${this.map(v, col + 2)}` : ` ${this.map(v, col + 2)}`;
    }
    return `${colon} ${this.scalar(v, col)}\n`;
  }

  /** A key's text. At column 0 a key such as `---` reads as a document marker, so there it is spelled apart. */
  private key(k: string, col: number): string {
    if (simple(k)) return k;
    const cache = col === 0 ? this.topKeys : this.keys;
    let text = cache.get(k);
    if (text === undefined) {
      const ref = col === 0 ? this.reference({ [k]: 0 }) : this.reference({ k: { [k]: 0 } });
      const head = col === 0 ? "" : "k:\n  ";
      if (!ref.startsWith(head) || !ref.endsWith(": 0\n") || ref.startsWith(`${head}? `)) throw new NotPlain();
      text = ref.slice(head.length, -": 0\n".length);
      if (text.includes("\n")) throw new NotPlain();
      if (cache.size < CACHE_LIMIT) cache.set(k, text);
    }
    return text;
  }

  /** A scalar's text; continuation lines of a block literal are indented for a key at column `col`. */
  private scalar(v: unknown, col: number): string {
    if (typeof v === "string") {
      if (simple(v) || plainValue(v)) return v;
      const literal = blockLiteral(v, col);
      if (literal !== undefined) return literal;
    } else if (typeof v === "number") {
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) return String(v);
    } else if (typeof v === "boolean") {
      return v ? "true" : "false";
    } else if (v === null) {
      return "null";
    } else {
      throw new NotPlain();
    }
    let text = this.values.get(v);
    if (text === undefined) {
      const ref = this.reference({ k: v });
      if (!ref.startsWith("k: ") || !ref.endsWith("\n")) throw new NotPlain();
      text = ref.slice(3, -1);
      if (this.values.size < CACHE_LIMIT && (typeof v !== "string" || v.length <= CACHED_LENGTH)) this.values.set(v, text);
    }
    if (col === 0 || !text.includes("\n")) return text;
    // The reference wrote the block literal for a key at column 0; its lines move right with the key.
    // Empty lines stay empty, as the library writes them.
    const pad = " ".repeat(col);
    return text
      .split("\n")
      .map((line, i) => (i === 0 || line === "" ? line : pad + line))
      .join("\n");
  }
}

/** Characters the library double-quotes a string for (its stringifyString's test), and tabs; only line breaks pass. */
const NOT_IN_LITERAL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u{D800}-\u{DFFF}]/u;
const WHITESPACE = new Set([" ", "\n", "\t"]);

/**
 * A multi-line value the library writes as a block literal, written here the library's way; undefined for
 * anything else (the reference spells it). In a block map or list, with no line width, the library writes
 * every multi-line string that it need not double-quote as a literal (`|`): plain style never holds a line
 * break there, and with line width 0 folding is never chosen (stringifyString: plainString → blockString).
 * Taken here only in the simple case — a non-space first character (no indentation indicator), no tab,
 * carriage return or other control character, and either no whitespace at the end (chomping `-`) or one
 * line break after a non-space (clip, no indicator) — where the library's text is `|` and the chomping
 * indicator, then every line after one, indented two spaces past the key, and empty lines left empty.
 * Dashboards' JSON (one per app, each distinct, too long to cache) took most of the time the reference
 * was asked for.
 */
function blockLiteral(v: string, col: number): string | undefined {
  if (!v.includes("\n") || WHITESPACE.has(v[0]!) || NOT_IN_LITERAL.test(v) || needsQuotes(v)) return undefined;
  let body = v;
  let chomp = "-";
  if (v.endsWith("\n")) {
    if (v.length < 2 || WHITESPACE.has(v[v.length - 2]!)) return undefined;
    body = v.slice(0, -1);
    chomp = "";
  } else if (WHITESPACE.has(v[v.length - 1]!)) return undefined;
  const indent = " ".repeat(col + 2);
  return `|${chomp}\n${indent}${body.replace(/\n+/g, `$&${indent}`)}`;
}

function isPlainRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}
