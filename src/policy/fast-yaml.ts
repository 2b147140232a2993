/**
 * A fast reading of the plain block-style YAML that rendered manifests are made of (kubectl's, Helm's and
 * jsonnet's output), straight from the text to the values `yaml` would build, without its token stream,
 * syntax tree and per-node objects (about 75 bytes allocated per byte of input; most of `check`'s time
 * and its garbage collections).
 *
 * It reads only what it is sure of and declines the whole file otherwise (`undefined`): the caller then
 * reads it with `yaml`, as before. Read here: block maps and sequences indented with spaces, `- key: v`
 * items, single-line plain, single- and double-quoted scalars, literal block scalars (`|`, `|-`) without
 * leading blank lines, flow collections (`{k: v}`, `[a, b]`, nested, empty) on one line after `key: ` or
 * `- `, comments, and `---` lines between documents.
 * Declined: anchors, aliases, tags, flow collections over several lines or with implicit keys or pairs
 * (`{a}`, `[a: b]`), `#` or `:` in a flow collection's plain scalars, folded or kept block scalars,
 * multi-line plain or quoted scalars, keys that are not strings (`1:`, `yes:`, `<<:`) or repeat, `? `,
 * directives, `...`, tabs, CR line ends, control characters, and anything `yaml` would report a problem
 * for. Plain scalars are resolved by `yaml`'s own YAML 1.1 tags (KUBECTL_YAML), so `on`, `0777` and `1e3`
 * mean what they mean there. test/robustness/fast-yaml.test.ts holds the values, booleans and document
 * count to `yaml`'s on the corpus, the fixtures and generated documents.
 */
import { isScalar, parseDocument, type ScalarTag } from "yaml";

/** One document: its value (null when empty) and the YAML 1.1-only booleans in it, in document order. */
export interface FastDocument {
  readonly value: Record<string, unknown> | null;
  readonly booleans: readonly FastBoolean[];
}

export interface FastBoolean {
  /** Keys and indexes from the document's root. */
  readonly segments: readonly (string | number)[];
  readonly text: string;
  readonly value: boolean;
}

/** Thrown (one shared object: never seen outside this module) when the text leaves what is read here. */
const DECLINE = { declined: true } as const;

/** Characters that send the whole file to `yaml`: CR, control characters, BOM, YAML 1.1's extra line breaks. */
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029\ufeff]/;
/** Directives, document end markers, and `---` with content on its line. */
const UNSAFE_LINE = /^(?:%|\.\.\.|---.)/m;
const DOCUMENT_MARKER = /^---$/gm;
/** The booleans YAML 1.2 also reads as booleans (the loader reports the others, YAML 1.1-only). */
export const YAML12_BOOLEAN = /^(?:true|True|TRUE|false|False|FALSE)$/;
/**
 * Deepest nesting read here (keys and indexes from the root): manifests nest a few dozen levels; a document
 * thousands of levels deep, in block or flow style, is `yaml`'s to report (this reader would run out of stack).
 */
const MAX_DEPTH = 100;

interface Tags {
  readonly tags: readonly ScalarTag[];
  readonly options: Parameters<NonNullable<ScalarTag["resolve"]>>[2];
}
const TAGS = new WeakMap<object, Tags>();

/** The scalar tags and options of a document read with `options` (the caller's KUBECTL_YAML). */
function schemaTags(options: object): Tags {
  let tags = TAGS.get(options);
  if (!tags) {
    const doc = parseDocument("", options);
    TAGS.set(options, (tags = { tags: doc.schema.tags as ScalarTag[], options: doc.options as Tags["options"] }));
  }
  return tags;
}

/**
 * Reads every document of `text`, or returns undefined when any part of it is not plain enough to be
 * sure (then `yaml` must read it). `options` are the parse options whose YAML 1.1 tags resolve plain scalars.
 */
export function fastDocuments(text: string, options: object): FastDocument[] | undefined {
  if (UNSAFE.test(text) || UNSAFE_LINE.test(text)) return undefined;
  const reader = new Reader(text, schemaTags(options));
  const docs: FastDocument[] = [];
  try {
    let start = 0;
    let first = true;
    DOCUMENT_MARKER.lastIndex = 0;
    for (;;) {
      const m = DOCUMENT_MARKER.exec(text);
      const end = m ? m.index : text.length;
      // Content before the first `---` is a document; comments alone there belong to the next one.
      const doc = reader.document(start, end);
      if (!first || doc.value !== null || m === null) {
        if (first && doc.value === null && m === null) break; // no marker and no content: no document
        docs.push(doc);
      }
      if (!m) break;
      first = false;
      start = m.index + 4;
      if (start > text.length) {
        // `---` as the last line without a line end: one more, empty, document.
        docs.push({ value: null, booleans: [] });
        break;
      }
    }
  } catch (err) {
    if (err === DECLINE) return undefined;
    throw err;
  }
  return docs;
}

class Reader {
  /** Start of the line being read. */
  private pos = 0;
  /** End of the current document's text (the start of the next `---` line, or the end of the text). */
  private end = 0;
  private readonly segments: (string | number)[] = [];
  private booleans: FastBoolean[] = [];
  /** Cursor in the flow collection being read: just past what was read last. */
  private f = 0;

  constructor(
    private readonly t: string,
    private readonly tags: Tags,
  ) {}

  document(start: number, end: number): FastDocument {
    this.pos = start;
    this.end = end;
    this.booleans = [];
    const indent = this.nextContent();
    if (indent === -1) return { value: null, booleans: [] };
    // A document that is not a map at the left margin (a scalar, a sequence) is left to `yaml`.
    if (indent !== 0 || this.isDash(this.pos)) throw DECLINE;
    const value = this.map(0, this.pos);
    if (this.nextContent() !== -1) throw DECLINE;
    return { value, booleans: this.booleans };
  }

  /** End of the line holding `i` (its `\n`, or the document's end). */
  private lineEnd(i: number): number {
    const nl = this.t.indexOf("\n", i);
    return nl === -1 || nl > this.end ? this.end : nl;
  }

  /** Moves `pos` past the line holding `i`. */
  private nextLine(i: number): void {
    const le = this.lineEnd(i);
    this.pos = le < this.end ? le + 1 : this.end;
  }

  /**
   * Skips blank and comment lines from `pos`; returns the indent of the next line with content (pos at
   * its start), or -1 at the document's end.
   */
  private nextContent(): number {
    const t = this.t;
    while (this.pos < this.end) {
      let i = this.pos;
      while (t.charCodeAt(i) === 32) i++;
      if (i >= this.end) {
        this.pos = this.end;
        return -1;
      }
      const c = t.charCodeAt(i);
      if (c === 10 || c === 35 /* # */) {
        this.nextLine(i);
        continue;
      }
      if (c === 9) throw DECLINE; // a tab where indentation is read
      return i - this.pos;
    }
    return -1;
  }

  /** `-` followed by a space or the line's end: a sequence item. */
  private isDash(i: number): boolean {
    if (this.t.charCodeAt(i) !== 45) return false;
    const n = this.t.charCodeAt(i + 1);
    return n === 32 || n === 10 || i + 1 >= this.end;
  }

  /** A block node starting on the line at `pos`, indented `indent`. */
  private block(indent: number): unknown {
    if (this.segments.length > MAX_DEPTH) throw DECLINE;
    const p = this.pos + indent;
    return this.isDash(p) ? this.seq(indent) : this.map(indent, p);
  }

  /** A block map whose first key starts at `p` in column `col`; later keys start lines indented `col`. */
  private map(col: number, p: number): Record<string, unknown> {
    const obj: Record<string, unknown> = {};
    for (;;) {
      const le = this.lineEnd(p);
      const colon = this.keyEnd(p, le);
      if (colon === -1) throw DECLINE;
      const key = this.key(p, colon);
      if (key === "__proto__" || Object.prototype.hasOwnProperty.call(obj, key)) throw DECLINE;
      this.segments.push(key);
      obj[key] = this.value(colon + 1, le, col, true);
      this.segments.pop();
      const indent = this.nextContent();
      if (indent === -1 || indent < col) return obj;
      if (indent > col) throw DECLINE;
      p = this.pos + col;
      if (this.isDash(p)) throw DECLINE;
    }
  }

  /** A block sequence whose items start lines indented `col`. */
  private seq(col: number): unknown[] {
    const arr: unknown[] = [];
    for (;;) {
      const p = this.pos + col;
      const le = this.lineEnd(p);
      this.segments.push(arr.length);
      let i = p + 1;
      while (this.t.charCodeAt(i) === 32) i++;
      let item: unknown;
      const c = this.t.charCodeAt(i);
      // `- {a: b}` and `- [a]` are flow collections, whatever `: ` they hold.
      if (i < le && c !== 35 && c !== 123 && c !== 91 && this.keyEnd(i, le) !== -1) {
        if (this.isDash(i)) throw DECLINE;
        item = this.map(i - this.pos, i);
      } else item = this.value(p + 1, le, col, false);
      this.segments.pop();
      arr.push(item);
      const indent = this.nextContent();
      if (indent === -1 || indent < col) return exact(arr);
      if (indent > col) throw DECLINE;
      // A line at the sequence's indent that is not an item ends it (a key of the map it is the value of).
      if (!this.isDash(this.pos + col)) return exact(arr);
    }
  }

  /**
   * Offset of the `:` ending the key that starts at `i` (followed by a space or the line's end), or -1
   * when the line holds no key there.
   */
  private keyEnd(i: number, le: number): number {
    const t = this.t;
    const c = t.charCodeAt(i);
    if (c === 34 /* " */ || c === 39 /* ' */) {
      const close = this.quoteEnd(i, le);
      if (close === -1 || t.charCodeAt(close + 1) !== 58 /* : */) return -1;
      const n = close + 2;
      return n >= le || t.charCodeAt(n) === 32 ? close + 1 : -1;
    }
    for (let k = find(t, 58, i, le); k !== -1; k = find(t, 58, k + 1, le)) {
      if (k + 1 >= le || t.charCodeAt(k + 1) === 32) return k;
    }
    return -1;
  }

  /** The key from `p` to its `:` at `colon`, as a string (or declined). */
  private key(p: number, colon: number): string {
    const t = this.t;
    // An implicit key ends at most 1024 characters after its start (quoted ones too): long keys are `yaml`'s to judge.
    if (colon - p > 1000) throw DECLINE;
    const c = t.charCodeAt(p);
    if (c === 34 || c === 39) return this.quoted(p, colon - 1);
    const raw = t.slice(p, colon);
    // Blanks before the colon, comments and indicators are `yaml`'s to judge.
    if (raw.length === 0 || raw.charCodeAt(raw.length - 1) === 32 || raw.includes(" #") || raw.includes("\t") || !plainStart(raw)) throw DECLINE;
    const key = this.resolve(raw, true);
    if (typeof key !== "string") throw DECLINE;
    return key;
  }

  /** Offset of the closing quote of the quoted scalar opening at `i`, on its line, or -1. */
  private quoteEnd(i: number, le: number): number {
    const t = this.t;
    if (t.charCodeAt(i) === 39) {
      for (let k = find(t, 39, i + 1, le); k !== -1; k = find(t, 39, k + 2, le)) {
        if (t.charCodeAt(k + 1) !== 39) return k;
      }
      return -1;
    }
    for (let k = find(t, 34, i + 1, le); k !== -1; k = find(t, 34, k + 1, le)) {
      let b = 0;
      while (t.charCodeAt(k - 1 - b) === 92 /* \ */) b++;
      if (b % 2 === 0) return k;
    }
    return -1;
  }

  /** The value of the quoted scalar from `i` to its closing quote at `close`. */
  private quoted(i: number, close: number): string {
    const body = this.t.slice(i + 1, close);
    if (this.t.charCodeAt(i) === 39) return body.includes("'") ? body.replaceAll("''", "'") : body;
    if (!body.includes("\\")) return body;
    // JSON's escapes are a subset of YAML's with the same meanings; anything else (`\x41`, `\ `) is declined.
    try {
      return JSON.parse(`"${body}"`) as string;
    } catch {
      throw DECLINE;
    }
  }

  /**
   * The value after a key's `:` or an item's `-` at `p` (line end `le`) of a node in column `col`: on the
   * same line, or the block on the lines below. `inMap`: a sequence may then start at `col` itself.
   */
  private value(p: number, le: number, col: number, inMap: boolean): unknown {
    const t = this.t;
    let i = p;
    while (t.charCodeAt(i) === 32) i++;
    if (i >= le || t.charCodeAt(i) === 35) {
      if (t.charCodeAt(i) === 35 && i === p) throw DECLINE; // `key:#`: not a comment
      this.nextLine(p);
      const indent = this.nextContent();
      if (indent > col) return this.block(indent);
      if (indent === col && inMap && this.isDash(this.pos + col)) return this.seq(col);
      return this.resolve("", false);
    }
    const c = t.charCodeAt(i);
    let value: unknown;
    let rest: number;
    if (c === 34 || c === 39) {
      const close = this.quoteEnd(i, le);
      if (close === -1) throw DECLINE;
      value = own(this.quoted(i, close));
      rest = close + 1;
    } else if (c === 124 /* | */) {
      return this.literal(i, le, col);
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      value = this.flow(i, le);
      rest = this.f;
    } else {
      let stop = le;
      for (let k = find(t, 35, i, le); k !== -1; k = find(t, 35, k + 1, le)) {
        if (t.charCodeAt(k - 1) === 32) {
          stop = k - 1;
          break;
        }
      }
      let e = stop;
      while (e > i && t.charCodeAt(e - 1) === 32) e--;
      const raw = t.slice(i, e);
      // `a: b` on one line and `a:` at the end are maps, not text; tabs are `yaml`'s.
      if (!plainStart(raw) || raw.includes(": ") || raw.charCodeAt(raw.length - 1) === 58 || raw.includes("\t")) throw DECLINE;
      value = this.plain(raw);
      rest = stop;
    }
    // Only blanks and a comment may follow on the line.
    while (t.charCodeAt(rest) === 32) rest++;
    if (rest < le && !(t.charCodeAt(rest) === 35 && t.charCodeAt(rest - 1) === 32)) throw DECLINE;
    this.nextLine(i);
    // A more indented line after a scalar continues it (or is an error): `yaml`'s.
    if (this.nextContent() > col) throw DECLINE;
    return value;
  }

  /** The value of the plain scalar `raw` at the current segments, its YAML 1.1-only boolean recorded. */
  private plain(raw: string): unknown {
    const value = this.resolve(raw, false);
    if (typeof value === "string") return own(value);
    if (typeof value === "boolean" && !YAML12_BOOLEAN.test(raw)) this.booleans.push({ segments: [...this.segments], text: raw, value });
    return value;
  }

  /**
   * The flow collection (`{k: v, …}` or `[a, …]`) opening at `i` and closed on its line (end `le`); `f` is
   * then just past its closing bracket. Over several lines it is `yaml`'s (no closing
   * bracket before `le`). Items are separated by `,` with blanks around; a trailing `,` is read as `yaml`
   * reads it (nothing), an empty item (`[a,,b]`, `[,]`) is declined.
   */
  private flow(i: number, le: number): Record<string, unknown> | unknown[] {
    if (this.segments.length > MAX_DEPTH) throw DECLINE;
    const t = this.t;
    const isMap = t.charCodeAt(i) === 123;
    const close = isMap ? 125 : 93;
    const obj: Record<string, unknown> = {};
    const arr: unknown[] = [];
    this.f = i + 1;
    for (;;) {
      this.blanks(le);
      if (this.f >= le) throw DECLINE;
      if (t.charCodeAt(this.f) === close) break;
      if (isMap) {
        const key = this.flowKey(le);
        if (key === "__proto__" || Object.prototype.hasOwnProperty.call(obj, key)) throw DECLINE;
        this.segments.push(key);
        obj[key] = this.flowItem(le);
      } else {
        this.segments.push(arr.length);
        arr.push(this.flowItem(le));
      }
      this.segments.pop();
      this.blanks(le);
      const c = t.charCodeAt(this.f);
      if (this.f >= le || (c !== 44 /* , */ && c !== close)) throw DECLINE; // `[a b: c]`, `["a"b]`, `[[a]: b]`, a `#`
      if (c === 44) this.f++;
      else break;
    }
    this.f++;
    return isMap ? obj : exact(arr);
  }

  /** Moves `f` past blanks (spaces only: a tab is `yaml`'s) before `le`. */
  private blanks(le: number): void {
    while (this.f < le && this.t.charCodeAt(this.f) === 32) this.f++;
  }

  /**
   * The key of a flow map's entry at `f`, with its `: ` (`f` then at the value). A plain or quoted key only,
   * by the block keys' rules (a string, not `<<`); `{a}`, `{a:b}` (one scalar in YAML 1.2's flow rules),
   * `{"a":b}`, `{: b}`, `{a : b}`, `? ` and a collection as key are declined.
   */
  private flowKey(le: number): string {
    const t = this.t;
    const p = this.f;
    const c = t.charCodeAt(p);
    let colon: number;
    if (c === 34 || c === 39) {
      const close = this.quoteEnd(p, le);
      if (close === -1) throw DECLINE;
      colon = close + 1;
    } else colon = flowPlainEnd(t, p, le);
    if (colon >= le || t.charCodeAt(colon) !== 58 || t.charCodeAt(colon + 1) !== 32) throw DECLINE;
    const key = this.key(p, colon);
    this.f = colon + 2;
    return key;
  }

  /**
   * A flow collection's item or a flow map's value at `f` (blanks skipped): a nested collection, a quoted
   * scalar on the line or a plain scalar; `f` is then just past it. A plain scalar runs to the next `,`,
   * `]` or `}`; one stopped by `:` (`[a: b]`, `[a:b]`, `{a: b:c}`), `#`, a tab, `[` or `{` is declined,
   * and so is one starting with an indicator or `?` (`[? a]`, `[- a]`, `[*a]`, `[&a b]`, `[!t a]`, `[,]`).
   */
  private flowItem(le: number): unknown {
    this.blanks(le);
    const t = this.t;
    const p = this.f;
    const c = t.charCodeAt(p);
    if (c === 123 || c === 91) return this.flow(p, le);
    if (c === 34 || c === 39) {
      const close = this.quoteEnd(p, le);
      if (close === -1) throw DECLINE;
      this.f = close + 1;
      return own(this.quoted(p, close));
    }
    const stop = flowPlainEnd(t, p, le);
    const s = t.charCodeAt(stop);
    if (stop < le && s !== 44 && s !== 93 && s !== 125) throw DECLINE;
    let e = stop;
    while (e > p && t.charCodeAt(e - 1) === 32) e--;
    const raw = t.slice(p, e);
    if (!plainStart(raw) || c === 63 /* ? */) throw DECLINE;
    this.f = e;
    return this.plain(raw);
  }

  /** A literal block scalar (`|` or `|-`) whose header is at `i`, the value of a node in column `col`. */
  private literal(i: number, le: number, col: number): string {
    const t = this.t;
    let h = i + 1;
    const strip = t.charCodeAt(h) === 45;
    if (strip) h++;
    while (t.charCodeAt(h) === 32) h++;
    if (h < le) throw DECLINE; // `|+`, an indentation indicator, a comment
    const start = le + 1;
    let n = start;
    while (t.charCodeAt(n) === 32) n++;
    // An empty or blank first line sets the indent in ways left to `yaml`, and so does an empty text.
    if (n >= this.end || t.charCodeAt(n) === 10) throw DECLINE;
    const indent = n - start;
    if (indent <= col) throw DECLINE;
    // The text runs to the line end before the first line that is neither empty nor indented `indent`
    // with something on it (a line of blanks only stops it too, and is then declined below).
    const re = textEnd(indent);
    re.lastIndex = start;
    const m = re.exec(t);
    const stop = m === null || m.index > this.end ? Math.min(t.length, this.end) : m.index;
    if (stop + 1 < this.end) {
      // The line that ends the text: blanks only, or indented between the key and the text, is `yaml`'s.
      let k = stop + 1;
      while (t.charCodeAt(k) === 32) k++;
      if (k >= this.end || t.charCodeAt(k) === 10 || k - stop - 1 > col) throw DECLINE;
    }
    // Trailing empty lines are chomped (`|` keeps one line end, `|-` none).
    let e = stop;
    while (e > start && t.charCodeAt(e - 1) === 10) e--;
    this.pos = Math.min(stop + 1, this.end);
    // Cutting the indentation gives a chain of slices of the file's text (V8 joins the pieces lazily):
    // copied into one string of its own, the value keeps nothing of the text.
    if (strip) return own(t.slice(start, e).replace(indentOf(indent), ""));
    if (e < t.length) return own(t.slice(start, e + 1).replace(indentOf(indent), ""));
    return own(t.slice(start, e).replace(indentOf(indent), "") + "\n");
  }

  /** `yaml`'s reading of a plain scalar with the YAML 1.1 tags (keys also try the merge key's). */
  private resolve(raw: string, atKey: boolean): unknown {
    // Only these first characters can start a null, boolean, number or merge key in the YAML 1.1 tags (`e3` is
    // a float there): everything else is a string.
    if (raw !== "" && !"~nNyYtTfFoOeE0123456789+-.<".includes(raw[0]!)) return raw;
    const tag = this.tags.tags.find((x) => (x.default === true || (atKey && x.default === "key")) && x.test?.test(raw));
    if (!tag) return raw;
    let failed = false;
    const res: unknown = tag.resolve(raw, () => (failed = true), this.tags.options);
    if (failed) throw DECLINE;
    const v = isScalar(res) ? res.value : res;
    return typeof v === "bigint" ? Number(v) : v;
  }
}

/**
 * `s` as a string of its own: a slice of the file's text would keep the whole text alive as long as the
 * value (V8 makes slices of 13 characters or more views into their parent). Prefixing and cutting one
 * character copies it into one flat string: the cheapest copy measured (5 MiB of strings: 11 ms, 164 ms via
 * JSON), and it drops a chain of slices too. The loader's ownStrings uses it for yaml's values.
 */
export function own(s: string): string {
  return s.length < 13 ? s : (" " + s).slice(1);
}

/**
 * `arr` in a store of its own length: an array grown by push keeps room for 16 more items, which on the
 * thousands of short lists of a big input (ports, rules, containers) held a quarter more memory than
 * yaml's values (exactly sized, made by map).
 */
function exact<T>(arr: T[]): T[] {
  return arr.slice();
}

const TEXT_END: RegExp[] = [];
const INDENT: RegExp[] = [];

/** A line end not followed by an empty line or by one indented `n` with something on it. */
function textEnd(n: number): RegExp {
  return (TEXT_END[n] ??= new RegExp(`\\n(?!\\n| {${n}} *[^ \\n])`, "g"));
}

/** `n` blanks at a line's start. */
function indentOf(n: number): RegExp {
  return (INDENT[n] ??= new RegExp(`^ {${n}}`, "gm"));
}

/** Offset of the character `code` in `t` from `from` up to `to` (excluded), or -1: indexOf bounded to a line. */
function find(t: string, code: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (t.charCodeAt(i) === code) return i;
  return -1;
}

/**
 * Where a plain scalar of a flow collection starting at `p` stops: the first `,`, `[`, `]`, `{`, `}`, `:`,
 * `#` or tab before `le`, or `le`.
 */
function flowPlainEnd(t: string, p: number, le: number): number {
  for (let i = p; i < le; i++) {
    const c = t.charCodeAt(i);
    if (c === 44 || c === 91 || c === 93 || c === 123 || c === 125 || c === 58 || c === 35 || c === 9) return i;
  }
  return le;
}

/** A plain scalar may not start with an indicator (`-`, `?` and `:` only before a non-blank). */
function plainStart(raw: string): boolean {
  if (raw === "") return false;
  const c = raw[0]!;
  if (c === "-" || c === "?" || c === ":") return raw.length > 1 && raw[1] !== " ";
  return !"?:,[]{}#&*!|>'\"%@`".includes(c);
}
