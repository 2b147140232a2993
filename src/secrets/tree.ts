/**
 * The document model sops works on, independent of YAML/JSON/dotenv: ordered branches whose items
 * are key/value pairs or comments. Keeping comments as items (not as node decorations) is what makes
 * the `encrypted_comment_regex` rules and the "comments are encrypted too" behaviour of sops work.
 */
import { RE2JS } from "re2js";

/** A comment line (text after `#`). Inline comments trail a value on the same line. */
export class Comment {
  constructor(
    readonly value: string,
    readonly inline = false,
  ) {}
}

/** An integer; bigint so 64-bit values survive the round trip. */
export class IntValue {
  constructor(readonly value: bigint) {}
}

/** A float, kept apart from integers because sops tags them differently (`type:float`). */
export class FloatValue {
  constructor(readonly value: number) {}
}

/** A timestamp stored by sops with `type:time`; kept as its RFC 3339 text. */
export class TimeValue {
  constructor(readonly text: string) {}
}

/**
 * A string that is not valid UTF-8. Go strings are bytes, so sops keeps any bytes (a `.p12`, a
 * keytab) exactly; JavaScript strings cannot, so such values stay bytes here. They are encrypted
 * with `type:str` like every sops string.
 */
export class BytesValue {
  constructor(readonly bytes: Buffer) {}
}

/** A string when the bytes are valid UTF-8 (the common case), else the bytes themselves. */
export function stringOrBytes(b: Buffer): string | BytesValue {
  const text = b.toString("utf8");
  // Invalid sequences decode to U+FFFD, which encodes back to different bytes.
  return Buffer.byteLength(text, "utf8") === b.length && Buffer.from(text, "utf8").equals(b) ? text : new BytesValue(Buffer.from(b));
}

export type Scalar = string | boolean | IntValue | FloatValue | TimeValue | BytesValue;
export type Value = Scalar | null | Branch | Value[] | Comment;

export interface Item {
  key: string | Comment;
  value: Value;
}

/** An ordered mapping. A class (not a plain array) so it cannot be mistaken for a list. */
export class Branch {
  constructor(public items: Item[] = []) {}
}

/**
 * Which values get encrypted. At most one of the six selectors may be set; with none set sops uses
 * `unencryptedSuffix: "_unencrypted"`.
 */
export interface EncryptionRules {
  readonly unencryptedSuffix?: string;
  readonly encryptedSuffix?: string;
  readonly unencryptedRegex?: string;
  readonly encryptedRegex?: string;
  readonly unencryptedCommentRegex?: string;
  readonly encryptedCommentRegex?: string;
  /** Only encrypted values enter the MAC. @default false */
  readonly macOnlyEncrypted?: boolean;
}

export const DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted";

const SELECTORS = [
  "unencryptedSuffix",
  "encryptedSuffix",
  "unencryptedRegex",
  "encryptedRegex",
  "unencryptedCommentRegex",
  "encryptedCommentRegex",
] as const;

/** Applies the sops defaulting and the "only one selector" rule. */
export function normalizeRules(r: EncryptionRules): EncryptionRules {
  const set = SELECTORS.filter((k) => r[k] !== undefined && r[k] !== "");
  if (set.length > 1) {
    throw new Error(`only one of ${SELECTORS.join(", ")} may be set, got ${set.join(" and ")}`);
  }
  const out: { -readonly [K in keyof EncryptionRules]: EncryptionRules[K] } = {};
  for (const k of set) out[k] = r[k];
  if (set.length === 0) out.unencryptedSuffix = DEFAULT_UNENCRYPTED_SUFFIX;
  if (r.macOnlyEncrypted) out.macOnlyEncrypted = true;
  return out;
}

/** A compiled `.sops.yaml` pattern; `test` is Go's `regexp.MatchString` (a match anywhere). */
export interface GoPattern {
  readonly source: string;
  test(s: string): boolean;
}

/**
 * Compiles a pattern from `.sops.yaml` with Go's RE2 semantics, not JavaScript's: sops and KSOPS
 * read the same file, and a pattern that means something else here silently changes which values
 * are encrypted (`[[:alpha:]]`, `\A`, `\pL`, `(?i:…)` are RE2 only). re2js is a port of RE2J, itself a
 * port of Go's regexp, so syntax and matching are RE2's; what RE2 rejects (lookaround,
 * backreferences) is refused here too.
 */
export function goRegExp(pattern: string): GoPattern {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    throw new Error(`invalid regular expression ${JSON.stringify(pattern)} (Go RE2 syntax, as sops reads it): ${(e as Error).message}`);
  }
  return { source: pattern, test: (s: string) => re.matcher(s).find() };
}

/** Compiled form of the rules, built once per walk. */
export class RuleSet {
  readonly rules: EncryptionRules;
  private readonly re: Partial<Record<(typeof SELECTORS)[number], GoPattern>> = {};

  constructor(rules: EncryptionRules) {
    this.rules = normalizeRules(rules);
    for (const k of ["unencryptedRegex", "encryptedRegex", "unencryptedCommentRegex", "encryptedCommentRegex"] as const) {
      const v = this.rules[k];
      if (v) this.re[k] = goRegExp(v);
    }
  }

  /** Mirrors sops' decision for one leaf: path of map keys above it and the comments seen so far. */
  shouldBeEncrypted(path: readonly string[], commentsStack: readonly (readonly string[])[], isComment: boolean): boolean {
    const r = this.rules;
    let encrypted = true;
    if (r.unencryptedSuffix) {
      if (path.some((p) => p.endsWith(r.unencryptedSuffix!))) encrypted = false;
    }
    if (r.encryptedSuffix) {
      encrypted = path.some((p) => p.endsWith(r.encryptedSuffix!));
    }
    if (this.re.unencryptedRegex) {
      if (path.some((p) => this.re.unencryptedRegex!.test(p))) encrypted = false;
    }
    if (this.re.encryptedRegex) {
      encrypted = path.some((p) => this.re.encryptedRegex!.test(p));
    }
    if (this.re.unencryptedCommentRegex) {
      if (commentsStack.some((cs) => cs.some((c) => this.re.unencryptedCommentRegex!.test(c)))) encrypted = false;
    }
    if (this.re.encryptedCommentRegex) {
      encrypted = false;
      const last = commentsStack.length - 1;
      outer: for (let i = 0; i < commentsStack.length; i++) {
        const cs = commentsStack[i]!;
        for (let j = 0; j < cs.length; j++) {
          // The comment that switches encryption on stays readable itself.
          if (isComment && i === last && j === cs.length - 1) continue;
          if (this.re.encryptedCommentRegex.test(cs[j]!)) {
            encrypted = true;
            break outer;
          }
        }
      }
    }
    return encrypted;
  }
}

/**
 * `at` names the leaf's position (document-relative: map keys, list indexes, comment slots), unlike
 * `path`, which list items share with their siblings.
 */
export type LeafVisitor = (leaf: Scalar | Comment, path: readonly string[], commentsStack: readonly (readonly string[])[], at: string) => Scalar | Comment;

/**
 * Walks every leaf in document order exactly as sops does (comments included, list items share
 * their parent's path, nulls skipped) and replaces it with the visitor's result, in place.
 */
export function walkBranch(branch: Branch, visit: LeafVisitor, path: string[] = [], stack: string[][] = [], at = ""): void {
  const frame: string[] = [];
  const s = [...stack, frame];
  branch.items.forEach((item, i) => {
    if (item.key instanceof Comment) {
      frame.push(item.key.value);
      const out = visit(item.key, path, s, `${at}/#${i}`);
      item.key = out instanceof Comment ? out : new Comment(String(out), item.key.inline);
      return;
    }
    const valueIsComment = item.value instanceof Comment;
    if (valueIsComment) frame.push((item.value as Comment).value);
    item.value = walkValue(item.value, [...path, item.key], s, visit, `${at}/${JSON.stringify(item.key)}`);
    if (!valueIsComment) frame.length = 0;
  });
}

function walkList(list: Value[], path: string[], stack: string[][], visit: LeafVisitor, at: string): Value[] {
  const frame: string[] = [];
  const s = [...stack, frame];
  for (let i = 0; i < list.length; i++) {
    const v = list[i]!;
    const isComment = v instanceof Comment;
    if (isComment) frame.push(v.value);
    list[i] = walkValue(v, path, s, visit, `${at}/${i}`);
    if (!isComment) frame.length = 0;
  }
  return list;
}

function walkValue(v: Value, path: string[], stack: string[][], visit: LeafVisitor, at: string): Value {
  if (v === null) return null;
  if (v instanceof Branch) {
    walkBranch(v, visit, path, stack, at);
    return v;
  }
  if (Array.isArray(v)) return walkList(v, path, stack, visit, at);
  const out = visit(v, path, stack, at);
  if (v instanceof Comment && !(out instanceof Comment)) return new Comment(String(out), v.inline);
  return out;
}

/** Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits, never an exponent. */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (Object.is(v, -0)) return "-0";
  const s = String(v);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, lead, frac = "", expS] = m;
  const digits = lead! + frac;
  const exp = Number(expS);
  const point = 1 + exp;
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** The bytes sops feeds into the MAC and into AES for a value (`sops.ToBytes`). */
export function leafBytes(v: Scalar | Comment): Buffer {
  if (typeof v === "string") return Buffer.from(v, "utf8");
  if (typeof v === "boolean") return Buffer.from(v ? "True" : "False");
  if (v instanceof IntValue) return Buffer.from(v.value.toString());
  if (v instanceof FloatValue) return Buffer.from(formatGoFloat(v.value));
  if (v instanceof TimeValue) return Buffer.from(v.text);
  if (v instanceof BytesValue) return v.bytes;
  return Buffer.from(v.value, "utf8");
}

/** The sops type tag of a value. */
export function leafType(v: Scalar | Comment): "str" | "int" | "float" | "bool" | "time" | "comment" {
  if (typeof v === "string" || v instanceof BytesValue) return "str";
  if (typeof v === "boolean") return "bool";
  if (v instanceof IntValue) return "int";
  if (v instanceof FloatValue) return "float";
  if (v instanceof TimeValue) return "time";
  return "comment";
}

/** Deep copy, so encryption never mutates a caller's tree. */
export function cloneValue<T extends Value>(v: T): T {
  if (v instanceof Branch) return new Branch(v.items.map((i) => ({ key: i.key, value: cloneValue(i.value) }))) as T;
  if (Array.isArray(v)) return v.map((x) => cloneValue(x)) as T;
  return v;
}

/** Plain JavaScript view (comments dropped): ints become numbers when exact, else bigint. */
export function toPlain(v: Value): unknown {
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (v instanceof IntValue) {
    const n = Number(v.value);
    return Number.isSafeInteger(n) ? n : v.value;
  }
  if (v instanceof FloatValue) return v.value;
  if (v instanceof TimeValue) return v.text;
  if (v instanceof BytesValue) return v.bytes;
  if (v instanceof Comment) return undefined;
  if (Array.isArray(v)) return v.filter((x) => !(x instanceof Comment)).map(toPlain);
  const out: Record<string, unknown> = {};
  for (const it of v.items) {
    if (it.key instanceof Comment) continue;
    out[it.key] = toPlain(it.value);
  }
  return out;
}

/** Builds a tree from plain JavaScript (numbers with a fraction become floats). */
export function fromPlain(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "bigint") return new IntValue(v);
  if (typeof v === "number") return Number.isInteger(v) ? new IntValue(BigInt(v)) : new FloatValue(v);
  if (Array.isArray(v)) return v.map(fromPlain);
  if (typeof v === "object") {
    return new Branch(Object.entries(v as Record<string, unknown>).map(([key, value]) => ({ key, value: fromPlain(value) })));
  }
  throw new Error(`cannot store a ${typeof v} in a sops document`);
}

/** The item with this key in a branch, if any. */
export function getItem(b: Branch, key: string): Item | undefined {
  return b.items.find((i) => i.key === key);
}

/** Reads a path of map keys / list indexes. */
export function getPath(root: Value, path: readonly (string | number)[]): Value | undefined {
  let cur: Value | undefined = root;
  for (const p of path) {
    if (typeof p === "number") {
      if (!Array.isArray(cur)) return undefined;
      cur = cur.filter((x) => !(x instanceof Comment))[p];
    } else {
      if (!(cur instanceof Branch)) return undefined;
      cur = getItem(cur, p)?.value;
    }
  }
  return cur;
}

/** Sets a value at a path of map keys, creating intermediate maps; lists are indexed without comments. */
export function setPath(root: Branch, path: readonly (string | number)[], value: Value): void {
  if (path.length === 0) throw new Error("empty key path");
  let cur: Value = root;
  for (let i = 0; i < path.length; i++) {
    const p = path[i]!;
    const last = i === path.length - 1;
    if (typeof p === "number") {
      if (!Array.isArray(cur)) throw new Error(`${path.slice(0, i).join(".")} is not a list`);
      const idx = realIndex(cur, p);
      if (last) {
        if (idx === -1) cur.push(value);
        else cur[idx] = value;
        return;
      }
      if (idx === -1) {
        const next: Value = typeof path[i + 1] === "number" ? [] : new Branch();
        cur.push(next);
        cur = next;
      } else cur = cur[idx]!;
    } else {
      if (!(cur instanceof Branch)) throw new Error(`${path.slice(0, i).join(".") || "document"} is not a map`);
      const item = getItem(cur, p);
      if (last) {
        if (item) item.value = value;
        else cur.items.push({ key: p, value });
        return;
      }
      if (item && item.value !== null) cur = item.value;
      else {
        const next: Value = typeof path[i + 1] === "number" ? [] : new Branch();
        if (item) item.value = next;
        else cur.items.push({ key: p, value: next });
        cur = next;
      }
    }
  }
}

/** Removes a map key if present; returns whether something was removed. */
export function unsetPath(root: Branch, path: readonly string[]): boolean {
  const parent = getPath(root, path.slice(0, -1));
  if (!(parent instanceof Branch)) return false;
  const before = parent.items.length;
  parent.items = parent.items.filter((i) => i.key !== path[path.length - 1]);
  return parent.items.length !== before;
}

function realIndex(list: Value[], n: number): number {
  let seen = -1;
  for (let i = 0; i < list.length; i++) {
    if (list[i] instanceof Comment) continue;
    seen++;
    if (seen === n) return i;
  }
  return -1;
}
