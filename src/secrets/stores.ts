/**
 * Text formats <-> the sops tree. YAML keeps comments as tree items the way sops' yaml.v3 store
 * does; JSON keeps key order and the int/float distinction of number literals; dotenv and the
 * "binary" store (any other file, wrapped as `{"data": …}`) follow sops' conventions.
 */
import {
  Document,
  LineCounter,
  Pair,
  Scalar as YScalar,
  YAMLMap,
  YAMLSeq,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Alias,
  type Node as YNode,
} from "yaml";
import { analyseAliases } from "../model/yaml-aliases.ts";
import { SopsAliasError, SopsFormatError } from "./errors.ts";
import { Branch, BytesValue, Comment, FloatValue, IntValue, TimeValue, stringOrBytes, type Item, type Value } from "./tree.ts";
import { needsQuotes, resolvePlainScalar, yamlFloat } from "./yaml-scalars.ts";

export type SopsFormat = "yaml" | "json" | "dotenv" | "ini" | "binary";

/** Output layout, from `.sops.yaml` `stores:`. */
export interface StoreOptions {
  /** Spaces per level for YAML. @default 4 (as sops) */
  readonly yamlIndent?: number;
  /** Spaces per level for JSON; -1 means a tab. @default -1 (as sops) */
  readonly jsonIndent?: number;
}

/**
 * The store sops picks for a path (cmd/sops/formats/formats.go FormatForPath): case-sensitive
 * suffixes `.yaml`/`.yml`, `.json`, `.env`, `.ini`; anything else, `.env.production` and `X.YAML`
 * included, is binary.
 */
export function formatForPath(path: string): SopsFormat {
  if (path.endsWith(".yaml") || path.endsWith(".yml")) return "yaml";
  if (path.endsWith(".json")) return "json";
  if (path.endsWith(".env")) return "dotenv";
  if (path.endsWith(".ini")) return "ini";
  return "binary";
}

/** A lenient guess for scanning arbitrary files (`X.YAML`, `.env.local`), not sops' rule. */
export function guessFormatForPath(path: string): SopsFormat {
  const lower = path.toLowerCase();
  if (/\.ya?ml$/.test(lower)) return "yaml";
  if (/\.json$/.test(lower)) return "json";
  if (/\.env$/.test(lower) || /(^|\/)\.env(\.[^/]*)?$/.test(lower)) return "dotenv";
  return "binary";
}

/** The store names sops' --input-type/--output-type take (formats.go stringToFormat). */
export const STORE_NAMES = ["yaml", "json", "dotenv", "binary", "ini"] as const;

// ---------------------------------------------------------------- YAML

const TAG = "tag:yaml.org,2002:";

function commentItems(text: string | null | undefined, inline = false): Comment[] {
  if (!text) return [];
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => new Comment(l, inline));
}

function scalarValue(n: YScalar, where: string): Value {
  if (n.tag === TAG + "str" || n.tag === "!!str") return String(n.value ?? "");
  const src = typeof n.source === "string" ? n.source : String(n.value ?? "");
  if (n.type !== "PLAIN" && n.type !== undefined) return src;
  const r = resolvePlainScalar(src);
  if (n.tag === TAG + "float" && r instanceof IntValue) return new FloatValue(Number(r.value));
  if (n.tag && n.tag.startsWith(TAG) && !["int", "float", "bool", "null"].some((t) => n.tag === TAG + t)) {
    throw new SopsFormatError(`${where}: YAML tag ${n.tag} is not supported in sops files`);
  }
  return r;
}

class YamlReader {
  private readonly targets: ReadonlyMap<Alias, YNode>;
  constructor(
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    private readonly file: string,
  ) {
    // Refused before anything is expanded: a few hundred bytes of nested aliases expand to gigabytes.
    const a = analyseAliases(doc);
    if (a.problem) {
      const { line, col } = lines.linePos(a.problem.offset);
      throw new SopsAliasError(`${file}:${line}:${col}: ${a.problem.message}`);
    }
    this.targets = a.targets;
  }

  private where(n: YNode | null | undefined): string {
    const off = n?.range?.[0];
    if (off === undefined) return this.file;
    const { line, col } = this.lines.linePos(off);
    return `${this.file}:${line}:${col}`;
  }

  private deref(n: unknown): unknown {
    return isAlias(n) ? this.deref(this.targets.get(n)) : n;
  }

  value(raw: unknown): Value {
    const n = this.deref(raw);
    if (n === null || n === undefined) return null;
    if (isScalar(n)) return scalarValue(n, this.where(n));
    if (isMap(n)) return this.map(n);
    if (isSeq(n)) return this.seq(n);
    throw new SopsFormatError(`${this.file}: unsupported YAML node`);
  }

  map(m: YAMLMap): Branch {
    const items: Item[] = commentItems(m.commentBefore).map((c) => ({ key: c, value: null }));
    for (const p of m.items) {
      const k = this.deref(p.key);
      if (!isScalar(k)) throw new SopsFormatError(`${this.where(m)}: only scalar map keys are supported`);
      const key = scalarValue(k, this.where(k));
      if (typeof key !== "string") {
        throw new SopsFormatError(`${this.where(k)}: map key ${JSON.stringify(String(k.source ?? k.value))} is not a string (quote it)`);
      }
      for (const c of [...commentItems(k.commentBefore), ...commentItems(k.comment)]) items.push({ key: c, value: null });
      const v = this.deref(p.value);
      const simple = v === null || v === undefined || isScalar(v);
      if (simple && v) {
        for (const c of commentItems((v as YScalar).commentBefore)) items.push({ key: c, value: null });
        for (const c of commentItems((v as YScalar).comment, true)) items.push({ key: c, value: null });
      }
      items.push({ key, value: this.value(v) });
    }
    for (const c of commentItems(m.comment)) items.push({ key: c, value: null });
    return new Branch(items);
  }

  seq(s: YAMLSeq): Value[] {
    const out: Value[] = commentItems(s.commentBefore);
    for (const raw of s.items) {
      const n = this.deref(raw);
      if (n === null || n === undefined || isScalar(n)) {
        if (n) out.push(...commentItems((n as YScalar).commentBefore), ...commentItems((n as YScalar).comment, true));
      }
      out.push(this.value(n));
    }
    out.push(...commentItems(s.comment));
    return out;
  }

  document(): Branch {
    const c = this.deref(this.doc.contents);
    const head = commentItems(this.doc.commentBefore).map((x) => ({ key: x, value: null }) as Item);
    const foot = commentItems(this.doc.comment).map((x) => ({ key: x, value: null }) as Item);
    let body: Branch;
    if (c === null || c === undefined || (isScalar(c) && c.value === null && (c.source ?? "") === "")) body = new Branch();
    else if (isMap(c)) body = this.map(c);
    else if (isSeq(c)) throw new SopsFormatError(`${this.file}: YAML documents that are sequences are not supported`);
    else throw new SopsFormatError(`${this.file}: YAML documents that are single values are not supported`);
    body.items = [...head, ...body.items, ...foot];
    return body;
  }
}

export function parseYaml(text: string, file = "<yaml>"): Branch[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(docs)) return [];
  const out: Branch[] = [];
  for (const d of docs) {
    const err = d.errors[0];
    if (err) {
      const { line, col } = lines.linePos(err.pos[0]);
      throw new SopsFormatError(`${file}:${line}:${col}: invalid YAML: ${err.message.split("\n")[0]}`);
    }
    out.push(new YamlReader(d, lines, file).document());
  }
  return out;
}

function join(lines: readonly string[]): string {
  return lines.join("\n");
}

function stringNode(s: string): YScalar {
  const n = new YScalar(s);
  if (needsQuotes(s)) n.type = "QUOTE_DOUBLE";
  else if (s.includes("\n")) n.type = "BLOCK_LITERAL";
  return n;
}

/** Only the binary store can hold bytes that are not UTF-8; a text format would have to mangle them. */
function notText(format: string): never {
  throw new SopsFormatError(`a value is not valid UTF-8 text and cannot be written as ${format} (write it with --output-type binary)`);
}

function yamlNode(v: Value): YNode {
  if (v instanceof BytesValue) notText("YAML");
  if (v instanceof Branch) return yamlMap(v);
  if (Array.isArray(v)) return yamlSeq(v);
  if (v === null) return new YScalar(null);
  if (typeof v === "string") return stringNode(v);
  if (typeof v === "boolean") return new YScalar(v);
  if (v instanceof IntValue) {
    const n = Number(v.value);
    return new YScalar(Number.isSafeInteger(n) ? n : v.value);
  }
  if (v instanceof FloatValue) {
    const n = new YScalar(v.value);
    // A whole float must not read back as an int.
    if (Number.isFinite(v.value) && Number.isInteger(v.value) && !/e/.test(String(v.value))) n.minFractionDigits = 1;
    return n;
  }
  if (v instanceof TimeValue) return stringNode(v.text);
  return new YScalar(v.value);
}

function attachInline(node: YNode, inline: string[]): void {
  if (!inline.length) return;
  if (isScalar(node)) node.comment = join(inline);
  else node.commentBefore = node.commentBefore ? `${join(inline)}\n${node.commentBefore}` : join(inline);
}

function yamlMap(b: Branch): YAMLMap {
  const m = new YAMLMap();
  let head: string[] = [];
  let inline: string[] = [];
  let beginning = true;
  for (const it of b.items) {
    if (it.key instanceof Comment) {
      (it.key.inline ? inline : head).push(it.key.value);
      continue;
    }
    if (beginning) {
      beginning = false;
      if (head.length) m.commentBefore = join(head);
      head = [];
    }
    const k = stringNode(it.key);
    if (k.type === "BLOCK_LITERAL") k.type = "QUOTE_DOUBLE";
    if (head.length) k.commentBefore = join(head);
    head = [];
    const v = yamlNode(it.value);
    attachInline(v, inline);
    inline = [];
    m.items.push(new Pair(k, v));
  }
  const rest = [...head, ...inline];
  if (rest.length) {
    if (beginning) m.commentBefore = join(rest);
    else m.comment = join(rest);
  }
  if (m.items.length === 0) m.flow = true;
  return m;
}

function yamlSeq(list: Value[]): YAMLSeq {
  const s = new YAMLSeq();
  let head: string[] = [];
  let inline: string[] = [];
  let beginning = true;
  for (const v of list) {
    if (v instanceof Comment) {
      (v.inline ? inline : head).push(v.value);
      continue;
    }
    if (beginning) {
      beginning = false;
      if (head.length) s.commentBefore = join(head);
      head = [];
    }
    const n = yamlNode(v);
    if (head.length) n.commentBefore = n.commentBefore ? `${join(head)}\n${n.commentBefore}` : join(head);
    head = [];
    attachInline(n, inline);
    inline = [];
    s.items.push(n);
  }
  const rest = [...head, ...inline];
  if (rest.length) {
    if (beginning) s.commentBefore = join(rest);
    else s.comment = join(rest);
  }
  if (s.items.length === 0) s.flow = true;
  return s;
}

export function emitYaml(branches: readonly Branch[], indent = 4): string {
  return branches
    .map((b) => {
      const d = new Document();
      d.contents = yamlMap(b);
      if (b.items.length === 0) return "{}\n";
      return d.toString({ indent, lineWidth: 0, minContentWidth: 0 });
    })
    .join("---\n");
}

// ---------------------------------------------------------------- JSON

const JSON_NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

class JsonReader {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly file: string,
  ) {}

  private fail(msg: string): never {
    let line = 1;
    for (let k = 0; k < this.i && k < this.s.length; k++) if (this.s.charCodeAt(k) === 10) line++;
    throw new SopsFormatError(`${this.file}:${line}: invalid JSON: ${msg}`);
  }
  private ws(): void {
    while (this.i < this.s.length && " \t\r\n".includes(this.s[this.i]!)) this.i++;
  }
  private expect(c: string): void {
    this.ws();
    if (this.s[this.i] !== c) this.fail(`expected '${c}'`);
    this.i++;
  }
  document(): Branch {
    this.ws();
    if (this.s[this.i] !== "{") this.fail("the top level must be an object");
    const b = this.object();
    this.ws();
    if (this.i !== this.s.length) this.fail("unexpected content after the top-level object");
    return b;
  }
  private value(): Value {
    this.ws();
    const c = this.s[this.i];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    for (const [lit, v] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (this.s.startsWith(lit, this.i)) {
        this.i += lit.length;
        return v;
      }
    }
    // Sticky, not `exec(s.slice(i))`: copying the rest of the file for every number was quadratic.
    JSON_NUMBER.lastIndex = this.i;
    const m = JSON_NUMBER.exec(this.s);
    if (!m || m[0] === "" || m[0] === "-") this.fail(`unexpected ${c === undefined ? "end of input" : `'${c}'`}`);
    this.i += m[0].length;
    if (!m[2] && !m[3]) {
      const n = BigInt(m[0]);
      if (n >= -(2n ** 63n) && n < 2n ** 63n) return new IntValue(n);
    }
    return new FloatValue(Number(m[0]));
  }
  private string(): string {
    // A loop, not a regular expression: an alternation under `*` overflowed V8's regexp stack on
    // values of a few MiB, and slicing the rest of the file per string was quadratic.
    const start = this.i;
    let j = start + 1;
    for (;;) {
      const c = this.s.charCodeAt(j);
      if (Number.isNaN(c)) this.fail("unterminated string");
      if (c === 34) break;
      if (c < 0x20) this.fail("control character in a string");
      if (c === 92) {
        const e = this.s[j + 1];
        if (e === "u" && /^[0-9a-fA-F]{4}$/.test(this.s.slice(j + 2, j + 6))) j += 6;
        else if (e !== undefined && '"\\/bfnrt'.includes(e)) j += 2;
        else this.fail("bad escape in a string");
        continue;
      }
      j++;
    }
    this.i = j + 1;
    return JSON.parse(this.s.slice(start, j + 1)) as string;
  }
  private object(): Branch {
    this.expect("{");
    const items: Item[] = [];
    this.ws();
    if (this.s[this.i] === "}") {
      this.i++;
      return new Branch(items);
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail("expected a string key");
      const key = this.string();
      this.expect(":");
      items.push({ key, value: this.value() });
      this.ws();
      if (this.s[this.i] === ",") {
        this.i++;
        continue;
      }
      this.expect("}");
      return new Branch(items);
    }
  }
  private array(): Value[] {
    this.expect("[");
    const out: Value[] = [];
    this.ws();
    if (this.s[this.i] === "]") {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      if (this.s[this.i] === ",") {
        this.i++;
        continue;
      }
      this.expect("]");
      return out;
    }
  }
}

export function parseJson(text: string, file = "<json>"): Branch {
  return new JsonReader(text, file).document();
}

/** One JSON value of any kind (a `set` value), with the store's int/float distinction. */
export function parseJsonValue(text: string): Value {
  // The document reader takes only objects: wrap the value, then require exactly that one member.
  const b = parseJson(`{"v":${text}\n}`, "<value>");
  if (b.items.length !== 1 || b.items[0]!.key !== "v") throw new SopsFormatError("not a single JSON value");
  return b.items[0]!.value;
}

function jsonValue(v: Value, ind: string, level: number): string {
  if (v === null) return "null";
  if (v instanceof BytesValue) notText("JSON");
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "boolean") return String(v);
  if (v instanceof IntValue) return v.value.toString();
  if (v instanceof FloatValue) {
    if (!Number.isFinite(v.value)) throw new SopsFormatError(`cannot write ${v.value} to JSON`);
    return JSON.stringify(v.value);
  }
  if (v instanceof TimeValue) return JSON.stringify(v.text);
  if (v instanceof Comment) return "";
  const pad = ind.repeat(level + 1);
  const end = ind.repeat(level);
  if (Array.isArray(v)) {
    const parts = v.filter((x) => !(x instanceof Comment)).map((x) => pad + jsonValue(x, ind, level + 1));
    return parts.length ? `[\n${parts.join(",\n")}\n${end}]` : "[]";
  }
  const parts = v.items
    .filter((i) => !(i.key instanceof Comment))
    .map((i) => `${pad}${JSON.stringify(i.key)}: ${jsonValue(i.value, ind, level + 1)}`);
  return parts.length ? `{\n${parts.join(",\n")}\n${end}}` : "{}";
}

export function emitJson(b: Branch, indent = -1): string {
  return jsonValue(b, indent < 0 ? "\t" : " ".repeat(indent), 0) + "\n";
}

// ---------------------------------------------------------------- dotenv

export function parseDotenv(text: string, file = "<dotenv>"): Branch {
  const items: Item[] = [];
  text.split("\n").forEach((line, n) => {
    if (line === "") return;
    if (line.startsWith("#")) {
      items.push({ key: new Comment(line.slice(1)), value: null });
      return;
    }
    const eq = line.indexOf("=");
    if (eq === -1) throw new SopsFormatError(`${file}:${n + 1}: invalid dotenv line (no '=')`);
    items.push({ key: line.slice(0, eq), value: line.slice(eq + 1).replaceAll("\\n", "\n") });
  });
  return new Branch(items);
}

export function emitDotenv(b: Branch): string {
  let out = "";
  for (const it of b.items) {
    if (it.key instanceof Comment) {
      out += `#${it.key.value}\n`;
      continue;
    }
    const v = it.value;
    if (v instanceof BytesValue) notText("dotenv");
    if (v instanceof Branch || Array.isArray(v)) throw new SopsFormatError(`dotenv files cannot hold nested values (key ${it.key})`);
    const s = typeof v === "string" ? v.replaceAll("\n", "\\n") : scalarText(v);
    out += `${it.key}=${s}\n`;
  }
  return out;
}

function scalarText(v: Value): string {
  if (v === null) return "";
  if (typeof v === "boolean") return String(v);
  if (v instanceof IntValue) return v.value.toString();
  if (v instanceof FloatValue) return yamlFloat(v.value);
  if (v instanceof TimeValue) return v.text;
  return String(v);
}

// ---------------------------------------------------------------- INI

// sops' INI store (stores/ini/store.go) reads and writes through go-ini (gopkg.in/ini.v1) with
// non-unique sections allowed; the rules below are go-ini's, so files match what sops writes.
// Every section is a top-level map of string values; keys before the first section belong to
// "DEFAULT", which is always the first section, empty or not. A comment belongs to the key or
// section it precedes; sops stores a key's comment as the item right AFTER the key, and on
// writing attaches a comment item to the key before it, so the layout survives a round trip.

/** sops' stripCommentChar: drops a leading run of `; ` (or `# `) from the whole comment. */
function stripIniComment(c: string): string {
  if (c.startsWith(";")) return c.replace(/^[; ]+/, "");
  if (c.startsWith("#")) return c.replace(/^[# ]+/, "");
  return c;
}

function iniKeyName(line: string, where: string): { key: string; rest: string } {
  let quote = "";
  if (line.startsWith('"')) quote = line.length > 6 && line.startsWith('"""') ? '"""' : '"';
  else if (line.startsWith("`")) quote = "`";
  if (quote) {
    const end = line.indexOf(quote, quote.length);
    if (end === -1) throw new SopsFormatError(`${where}: missing closing key quote`);
    const d = line.slice(end + quote.length).search(/[=:]/);
    if (d === -1) throw new SopsFormatError(`${where}: key-value delimiter not found`);
    return { key: line.slice(quote.length, end).trim(), rest: line.slice(end + quote.length + d + 1) };
  }
  const d = line.search(/[=:]/);
  if (d === -1) throw new SopsFormatError(`${where}: key-value delimiter not found`);
  if (d === 0) throw new SopsFormatError(`${where}: empty key name`);
  return { key: line.slice(0, d).trim(), rest: line.slice(d + 1) };
}

export function parseIni(text: string, file = "<ini>"): Branch {
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  const sections: { name: string; items: Item[]; comment: string }[] = [{ name: "DEFAULT", items: [], comment: "" }];
  let cur = sections[0]!;
  let comment: string[] = [];
  const take = (): string => {
    const c = comment.join("\n").trim();
    comment = [];
    return c;
  };
  for (let n = 0; n < lines.length; n++) {
    const where = `${file}:${n + 1}`;
    const line = lines[n]!.replace(/^\s+/, "");
    if (line === "") continue;
    if (line.startsWith("#") || line.startsWith(";")) {
      comment.push(line.replace(/\r$/, ""));
      continue;
    }
    if (line.startsWith("[")) {
      const close = line.lastIndexOf("]");
      if (close === -1) throw new SopsFormatError(`${where}: unclosed section: ${line.trim()}`);
      cur = { name: line.slice(1, close).trim(), items: [], comment: take() };
      sections.push(cur);
      continue;
    }
    const { key, rest } = iniKeyName(line, where);
    let value = rest.replace(/^\s+/, "");
    const quote = value.length > 3 && value.startsWith('"""') ? '"""' : value.startsWith("`") ? "`" : "";
    if (quote) {
      const end = value.lastIndexOf(quote);
      if (end >= quote.length) value = value.slice(quote.length, end);
      else {
        // A quoted value running over several lines, up to the line holding the closing quote.
        let acc = value.slice(quote.length) + "\n";
        for (;;) {
          n++;
          if (n >= lines.length) throw new SopsFormatError(`${where}: missing closing ${quote} for the value of ${key}`);
          const next = lines[n]!;
          const pos = next.lastIndexOf(quote);
          if (pos > -1) {
            acc += next.slice(0, pos);
            break;
          }
          acc += next + "\n";
        }
        value = acc;
      }
    } else {
      value = value.trim();
      if (value.endsWith("\\")) throw new SopsFormatError(`${where}: continuation lines (a value ending in \\) are not supported`);
      const c = value.search(/[#;]/);
      if (c > -1) {
        comment.push(value.slice(c));
        value = value.slice(0, c).trim();
      }
      if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) value = value.slice(1, -1);
    }
    const c = take();
    const at = cur.items.findIndex((i) => i.key === key);
    const kept: Item[] = [{ key, value }];
    if (c) kept.push({ key: new Comment(stripIniComment(c)), value: null });
    if (at === -1) cur.items.push(...kept);
    else {
      // go-ini keeps one key per name: a repeated key replaces the earlier one in place.
      const len = cur.items[at + 1]?.key instanceof Comment ? 2 : 1;
      cur.items.splice(at, len, ...kept);
    }
  }
  return new Branch(
    sections.map((s) => ({
      key: s.name,
      value: new Branch(s.comment ? [{ key: new Comment(stripIniComment(s.comment)), value: null }, ...s.items] : s.items),
    })),
  );
}

function iniCommentLines(c: string, trim: boolean): string {
  return c
    .split("\n")
    .map((l) => (l[0] !== "#" && l[0] !== ";" ? "; " + (trim ? l.trim() : l) : l[0] + " " + l.slice(1).trim()))
    .map((l) => l + "\n")
    .join("");
}

export function emitIni(b: Branch): string {
  const blocks: string[] = [];
  const sections = b.items.filter((i) => !(i.key instanceof Comment));
  sections.forEach((sec, idx) => {
    const v = sec.value;
    if (!(v instanceof Branch)) throw new SopsFormatError(`INI files hold only sections: top-level key ${String(sec.key)} is not a section`);
    let items = v.items;
    let out = "";
    if (items[0]?.key instanceof Comment) {
      out += iniCommentLines(items[0].key.value, false);
      items = items.slice(1);
    }
    const keys: { name: string; value: string; comment: string }[] = [];
    for (const it of items) {
      if (it.key instanceof Comment) {
        const last = keys.at(-1);
        if (last) last.comment = it.key.value;
        continue;
      }
      const val = it.value;
      if (val instanceof BytesValue) notText("INI");
      if (val instanceof Branch || Array.isArray(val)) throw new SopsFormatError(`INI values cannot be nested (key ${it.key} in section ${String(sec.key)})`);
      const s = typeof val === "string" ? val : scalarText(val);
      const k = keys.find((x) => x.name === it.key);
      if (k) k.value = s;
      else keys.push({ name: it.key, value: s, comment: "" });
    }
    // DEFAULT written first has no header, and is left out entirely when empty.
    if (idx === 0 && String(sec.key).toUpperCase() === "DEFAULT") {
      if (keys.length === 0) return;
    } else out += `[${String(sec.key)}]\n`;
    // Keys holding a quote or a delimiter (= or :) are written in backticks, keys holding a backtick in """.
    const quoted = (n: string): string => (/["=:]/.test(n) ? "`" + n + "`" : n.includes("`") ? '"""' + n + '"""' : n);
    const width = Math.max(0, ...keys.map((k) => Buffer.byteLength(k.name) + (/["=:]/.test(k.name) ? 2 : k.name.includes("`") ? 6 : 0)));
    for (const k of keys) {
      if (k.comment) out += iniCommentLines(k.comment, true);
      const name = quoted(k.name);
      let val = k.value;
      if (/[\n`]/.test(val)) val = '"""' + val + '"""';
      else if (/[#;]/.test(val)) val = "`" + val + "`";
      else if (val.trim() !== val) val = '"' + val + '"';
      out += name + " ".repeat(Math.max(0, width - Buffer.byteLength(name))) + " = " + val + "\n";
    }
    blocks.push(out);
  });
  return blocks.join("\n");
}

// ---------------------------------------------------------------- dispatch

/** Parses a plaintext file into documents. */
export function parsePlain(text: string, format: SopsFormat, file?: string): Branch[] {
  switch (format) {
    case "yaml":
      return parseYaml(text, file);
    case "json":
      return [parseJson(text, file)];
    case "dotenv":
      return [parseDotenv(text, file)];
    case "ini":
      return [parseIni(text, file)];
    case "binary":
      return [new Branch([{ key: "data", value: text }])];
  }
}

/**
 * Parses a plaintext file from its bytes. The binary store keeps them exactly (sops' BinaryStore
 * stores the file as one Go string, which is bytes); text formats are read as UTF-8.
 */
export function parsePlainBytes(bytes: Buffer, format: SopsFormat, file?: string): Branch[] {
  if (format === "binary") return [new Branch([{ key: "data", value: stringOrBytes(bytes) }])];
  return parsePlain(bytes.toString("utf8"), format, file);
}

/** Writes plaintext documents as bytes: exactly the stored bytes for the binary store. */
export function emitPlainBytes(branches: readonly Branch[], format: SopsFormat, opts: StoreOptions = {}): Buffer {
  if (format === "binary") {
    const data = branches[0]?.items.find((i) => i.key === "data")?.value;
    if (data instanceof BytesValue) return Buffer.from(data.bytes);
  }
  return Buffer.from(emitPlain(branches, format, opts), "utf8");
}

/** Writes plaintext documents (what `decrypt` prints). */
export function emitPlain(branches: readonly Branch[], format: SopsFormat, opts: StoreOptions = {}): string {
  switch (format) {
    case "yaml":
      return emitYaml(branches, opts.yamlIndent ?? 4);
    case "json":
      return emitJson(branches[0] ?? new Branch(), opts.jsonIndent ?? -1);
    case "dotenv":
      return emitDotenv(branches[0] ?? new Branch());
    case "ini":
      return emitIni(branches[0] ?? new Branch());
    case "binary": {
      const data = branches[0]?.items.find((i) => i.key === "data")?.value;
      if (data instanceof BytesValue) notText("text (use the bytes API)");
      if (typeof data !== "string") throw new SopsFormatError("binary sops file has no string 'data' value");
      return data;
    }
  }
}

/** Parses an encrypted file (the binary store is JSON on disk). */
export function parseEncryptedText(text: string, format: SopsFormat, file?: string): Branch[] {
  return parsePlain(text, format === "binary" ? "json" : format, file);
}

export function emitEncryptedText(branches: readonly Branch[], format: SopsFormat, opts: StoreOptions = {}): string {
  return emitPlain(branches, format === "binary" ? "json" : format, opts);
}
