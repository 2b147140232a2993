/**
 * Reads Kubernetes YAML from files and folders: our rendered tree, a chart's `helm template` output,
 * or anything an operator wants to vet before adopting it.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, extname, join, relative, resolve, sep } from "node:path";
import { Composer, CST, isMap, isScalar, isSeq, parseAllDocuments, Parser, visit, type Document, type ParseOptions, type DocumentOptions, type SchemaOptions } from "yaml";
import { UserError } from "../errors.ts";
import { isPlainObject, type K8sObject, type LocatedObject } from "../model/k8s.ts";
import { analyseAliases } from "../model/yaml-aliases.ts";
import { fastDocuments, own, YAML12_BOOLEAN, type FastBoolean, type FastDocument } from "./fast-yaml.ts";
import { ptr } from "./lib/util.ts";
import type { PolicyFile } from "./types.ts";

/** An object with where exactly it came from. */
export interface LoadedObject extends LocatedObject {
  /** 1-based index of the YAML document in its file. */
  readonly document: number;
  /** 0-based index inside a `kind: List` document. */
  readonly item?: number;
  /** Template named by Helm's `# Source:` comment, when the file is Helm output. */
  readonly source?: string;
  /**
   * Plain scalars read as booleans only because the file is read as YAML 1.1 (`on`, `yes`, `n`, …).
   * @default none
   */
  readonly yaml11Booleans?: readonly Yaml11Boolean[];
  /**
   * What is wrong with the object's metadata (none, no name, a namespace or labels of the wrong type).
   * Such an object is still loaded, with the broken fields left out, so the rest of its file and the
   * object itself are checked; the `object-metadata` rule reports the problem.
   * @default none
   */
  readonly metadataProblem?: string;
}

/** A plain scalar such as `on` or `no` that YAML 1.1 reads as a boolean and YAML 1.2 as a string. */
export interface Yaml11Boolean {
  /** JSON pointer of the value inside its object. */
  readonly path: string;
  /** The scalar as written. */
  readonly text: string;
  /** What YAML 1.1 (kubectl, Argo CD) reads. */
  readonly value: boolean;
}

export interface LoadedManifests {
  readonly objects: readonly LoadedObject[];
  /**
   * Files that hold YAML but no Kubernetes object (values files, Compose files), and SOPS-encrypted
   * files (only their encrypted documents); the secret scan reads them.
   */
  readonly otherFiles: readonly PolicyFile[];
  /** Documents passed over because they are empty, encrypted or not Kubernetes objects. */
  readonly skippedDocuments: number;
  /** Every file read, in order (`<stdin>` for standard input). */
  readonly filesRead: readonly string[];
  /** Files passed over whole, each with one reason ("binary, skipped", "Helm template, not rendered", …). */
  readonly skippedFiles: readonly SkippedFile[];
  /** With `keepGoing`: what could not be loaded; everything else was. @default [] */
  readonly problems: readonly LoadProblem[];
}

/** A file that holds no manifest to check, and why; reported once, never as a problem. */
export interface SkippedFile {
  readonly file: string;
  readonly reason: string;
}

/** Problems listed per file; the rest of a file's problems are counted in one line. */
export const PROBLEMS_PER_FILE = 10;

export interface LoadProblem {
  readonly file: string;
  /** 1-based document index, when the problem is inside one. */
  readonly document?: number;
  readonly line?: number;
  readonly message: string;
}

/** Every problem found while loading, reported at once. */
export class ManifestLoadError extends UserError {
  constructor(readonly problems: readonly LoadProblem[]) {
    super(`could not load the manifests (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => "  - " + formatLoadProblem(p)).join("\n")}`);
    this.name = "ManifestLoadError";
  }
}

export function formatLoadProblem(p: LoadProblem): string {
  const where = [p.document !== undefined ? `document ${p.document}` : "", p.line !== undefined ? `line ${p.line}` : ""].filter(Boolean).join(", ");
  return `${p.file}${where ? ` (${where})` : ""}: ${p.message}`;
}

const EXTENSIONS = [".yaml", ".yml", ".json"];

/**
 * Documents that look like Kubernetes objects but only exist at build time: kustomize's own files and
 * the KSOPS generator. They never reach the API server, so no rule applies to them.
 */
function isBuildTimeOnly(apiVersion: string): boolean {
  return apiVersion.startsWith("kustomize.config.k8s.io/") || apiVersion.startsWith("viaduct.ai/") || apiVersion.startsWith("config.kubernetes.io/");
}

/**
 * Documents with `apiVersion` and `kind` that are configuration files of a program, not objects of the
 * API: kubeconfigs, kubelet/scheduler/kube-proxy/kubeadm configuration, audit and scheduler policies.
 * A folder holding one (cert-manager's deploy tree does) is still checked; the file is named once.
 */
function notAManifest(apiVersion: string, kind: string): string | undefined {
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.lastIndexOf("/")) : "";
  if (kind === "Config" && (apiVersion === "v1" || group === "")) return "a kubeconfig (kind: Config), not an object to apply";
  if (kind === "Policy" && (group === "" || group === "kubescheduler.config.k8s.io" || group === "audit.k8s.io")) return `a ${group === "audit.k8s.io" ? "audit" : "scheduler"} policy file (kind: Policy), not an object to apply`;
  if (group.endsWith(".config.k8s.io") || group === "kubeadm.k8s.io" || group === "audit.k8s.io")
    return `${kind} (${apiVersion}) is a component's configuration file, not an object to apply`;
  return undefined;
}

/**
 * The YAML that kubectl apply and Argo CD read: both decode manifests with sigs.k8s.io/yaml, which is
 * YAML 1.1 (go-yaml v2). So merge keys (`<<: *base`) are honoured and `on`/`off`/`yes`/`no`/`y`/`n` are
 * booleans; reading YAML 1.2 instead would let `privileged: on` or a merged-in securityContext pass
 * unseen. go-yaml v2 hands timestamps and `1:30` back as strings, so those two YAML 1.1 types are left out.
 */
export const KUBECTL_YAML: ParseOptions & DocumentOptions & SchemaOptions = {
  version: "1.1",
  merge: true,
  customTags: (tags) => tags.filter((t) => typeof t === "string" || (t.tag !== "tag:yaml.org,2002:timestamp" && t.format !== "TIME")),
};

/**
 * Whether text may hold an alias: `*` and a name character where a node can start — at a line's first
 * non-blank, after `- `, `? ` or `:`, after a flow indicator (the parser reads `}*a` as a stray `}` and an
 * alias). A `*` elsewhere is inside a scalar (PromQL's `a * b`, a dashboard's JSON in a block scalar), and a
 * document with only such stars (most dashboards and rules) does not have its tree walked for aliases.
 * It looks only at the stars; test/robustness/aliases.test.ts holds it to the regular expression that says
 * the same (which tried every character of a dashboard's megabyte of JSON, interpreted while the process was
 * cold) and to the parser's own view.
 */
export function mayHoldAlias(text: string, start = 0, end = text.length): boolean {
  const blank = (c: string) => c === " " || c === "\t";
  for (let i = text.indexOf("*", start); i !== -1 && i < end; i = text.indexOf("*", i + 1)) {
    // A name character must follow.
    if (i + 1 >= end || " \t\r\n,[]{}".includes(text[i + 1]!)) continue;
    let j = i - 1;
    while (j >= start && blank(text[j]!)) j--;
    const c = j >= start ? text[j]! : "";
    if (c === ":" || (c !== "" && "[]{},".includes(c)) || ((c === "?" || c === "-") && j < i - 1)) return true;
    // At a line's start, after blanks and byte-order marks.
    while (j >= start && (blank(text[j]!) || text[j] === "\uFEFF")) j--;
    if (j < start || "\n\r\u2028\u2029".includes(text[j]!)) return true;
  }
  return false;
}

/**
 * The offsets at which the parser reports each line to start, and the line of an offset, as yaml's
 * LineCounter answers `linePos(offset).line` (the same binary search over the same offsets). LineCounter
 * keeps them in a plain array, 8 bytes a line and half as much again while it grows (5–12 MiB for 26 MB
 * of manifests at the peak of `check`'s memory); here 4 bytes a line in blocks that never move.
 */
export class LineStarts {
  static readonly BLOCK = 1 << 16;
  private readonly blocks: Int32Array[] = [];
  private count = 0;

  /** The parser's `onNewLine`: offsets arrive in order. */
  readonly add = (offset: number): void => {
    const i = this.count % LineStarts.BLOCK;
    if (i === 0) this.blocks.push(new Int32Array(LineStarts.BLOCK));
    this.blocks[this.blocks.length - 1]![i] = offset;
    this.count++;
  };

  private at(i: number): number {
    return this.blocks[Math.floor(i / LineStarts.BLOCK)]![i % LineStarts.BLOCK]!;
  }

  /** 1-based line of `offset` (0 when no line start was reported at or before it). */
  lineAt(offset: number): number {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.at(mid) < offset) low = mid + 1;
      else high = mid;
    }
    if (low < this.count && this.at(low) === offset) return low + 1;
    return low;
  }
}

/** The only spellings of a boolean YAML 1.2 agrees with. */

/**
 * Plain scalars under `node` that are booleans in YAML 1.1 only. Aliases are reported where their anchor is.
 * `segments` is the path so far, shared down the walk (pushed and popped); a path is spelled out only for a hit.
 */
function yaml11Booleans(node: unknown, segments: (string | number)[], out: Yaml11Boolean[]): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key;
      // Keys of a merged-in map land in the map holding the `<<`.
      if (isScalar(key) && typeof key.value === "symbol") {
        yaml11Booleans(pair.value, segments, out);
        continue;
      }
      segments.push(isScalar(key) ? String(key.value) : "?");
      // A key such as `y` or `no` becomes "true"/"false" on the cluster.
      if (isScalar(key)) yaml11Booleans(key, segments, out);
      yaml11Booleans(pair.value, segments, out);
      segments.pop();
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      segments.push(i);
      yaml11Booleans(item, segments, out);
      segments.pop();
    });
  } else if (isScalar(node) && node.type === "PLAIN" && typeof node.value === "boolean" && !YAML12_BOOLEAN.test(node.source ?? "")) {
    out.push({ path: ptr(...segments), text: String(node.source), value: node.value });
  }
}

/** The node of `items[j]` in a List document. */
function listItemNode(doc: Document, j: number): unknown {
  const items = isMap(doc.contents) ? doc.contents.get("items", true) : undefined;
  return isSeq(items) ? items.items[j] : undefined;
}

function booleansOf(node: unknown): { yaml11Booleans?: Yaml11Boolean[] } {
  const out: Yaml11Boolean[] = [];
  yaml11Booleans(node, [], out);
  return out.length ? { yaml11Booleans: out } : {};
}

/** A document SOPS encrypted: its values are ciphertext and the `sops` block holds the keys and MAC. */
function isSopsDocument(v: unknown): boolean {
  return isPlainObject(v) && isPlainObject(v.sops);
}

function looksLikeObject(v: unknown): v is Record<string, unknown> & { apiVersion: string; kind: string } {
  return isPlainObject(v) && typeof v.apiVersion === "string" && typeof v.kind === "string";
}

/**
 * Parses one file's text the way kubectl does (see KUBECTL_YAML). Multi-document files, `kind: List`
 * (and `*List`) documents and Helm output are understood; empty and non-Kubernetes documents are
 * skipped. SOPS-encrypted documents are not objects: `encrypted` is the text of just those documents
 * (the others blanked, lines kept) for the secret scan. Problems are returned, not thrown.
 */
export function parseManifests(
  text: string,
  file: string,
): ParsedManifests {
  // Plain rendered manifests are read without yaml's syntax tree (./fast-yaml.ts); what that reader is not
  // sure of, every file with a problem and Helm output (its `# Source:` comments) are read by yaml.
  if (!text.includes("Source:")) {
    const fast = jsonDocument(text) ?? fastDocuments(text, FAST_OPTIONS);
    const res = fast && fromFastDocuments(fast, file);
    if (res) return res;
  }
  return parseManifestsByYaml(text, file);
}

export interface ParsedManifests {
  objects: LoadedObject[];
  skipped: number;
  problems: LoadProblem[];
  encrypted?: string;
  notManifest?: string;
}

/** parseManifests through yaml's parser and syntax tree, for every file (exported for the tests that compare). */
export function parseManifestsByYaml(text: string, file: string): ParsedManifests {
  // Only Helm output has `# Source:` comments; other files are not searched for them document by document.
  const helmOutput = text.includes("Source:");
  const objects: LoadedObject[] = [];
  const problems: LoadProblem[] = [];
  let skipped = 0;
  let notManifest: string | undefined;
  const sopsRanges: [number, number][] = [];
  // One line index for the whole file: finding a line by rescanning from the start made big files quadratic.
  const lc = new LineStarts();
  const lineAt = (offset: number) => lc.lineAt(offset);
  // Document by document: each syntax tree is dropped once its object is built, so a big file never
  // holds the trees of all its documents at once (they take several times the text's size).
  const composer = new Composer({ ...KUBECTL_YAML, uniqueKeys: true, prettyErrors: false });
  let i = 0;
  const tokens = new Parser(lc.add).parse(text);
  const quoted = hasLongLine(text) ? new Map<number, string>() : undefined;
  for (const doc of composer.compose(quoted ? readingLongQuoted(tokens, quoted) : tokens)) each(doc, i++);
  function each(doc: Document.Parsed, i: number): void {
    const document = i + 1;
    if (quoted?.size) restoreLongQuoted(doc, quoted);
    const [start = 0, end = text.length] = doc.range ?? [];
    if (doc.errors.length) {
      let deep = false;
      for (const e of doc.errors) {
        const message = yamlErrorText(e);
        // Running out of stack once: yaml may report it again at a level it unwinds through.
        if (message === TOO_DEEP && deep) continue;
        deep ||= message === TOO_DEEP;
        problems.push({ file, document, line: lineAt(e.pos[0]), message });
      }
      return;
    }
    // The line of the document's first node, not of its `---` marker or leading comments.
    const line = lineAt((doc.contents as { range?: [number, number, number] } | null)?.range?.[0] ?? start);
    // Every alias is written `*name` where a node starts: a document without one has none to resolve or bound.
    const aliasProblem = mayHoldAlias(text, start, end) ? analyseAliases(doc).problem : undefined;
    if (aliasProblem) {
      problems.push({ file, document, line: lineAt(aliasProblem.offset), message: aliasProblem.message });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: -1 });
    } catch (e) {
      // The yaml library throws while building values from a parsed tree, e.g. `<<: ""` (a merge of a
      // non-map): a problem of this document, not a crash of the run.
      problems.push({ file, document, line, message: e instanceof RangeError ? TOO_DEEP : (e as Error).message.split("\n")[0]! });
      return;
    }
    if (value === null || value === undefined) {
      skipped++;
      return;
    }
    if (nestsDeeperThan(value, MAX_DEPTH)) {
      problems.push({ file, document, line, message: TOO_DEEP_FOR_RULES });
      return;
    }
    value = ownStrings(value);
    if (isSopsDocument(value)) {
      sopsRanges.push([start, end]);
      skipped++;
      return;
    }
    const source = helmOutput ? /^#[ \t]*Source:[ \t]*(\S[^\n]*)$/m.exec(text.slice(start, end))?.[1]?.trimEnd() : undefined;
    const taken = take(value, file, { document, ...(source !== undefined && { source }) }, (j) => booleansOf(j === undefined ? doc.contents : listItemNode(doc, j)));
    if (taken.notManifest !== undefined) notManifest ??= taken.notManifest;
    if (taken.skipped) skipped++;
    objects.push(...taken.objects);
    for (const message of taken.problems ?? []) problems.push({ file, document, line, message });
  }
  return { objects, skipped, problems, ...(sopsRanges.length && { encrypted: onlyRanges(text, sopsRanges) }), ...(notManifest !== undefined && { notManifest }) };
}

/**
 * yaml reads a double-quoted scalar one character at a time (`res += ch`): a 7 MB quoted string became a
 * chain of 7 million string pieces, 220 MB, before its first use flattened it. So a long one (on a line longer
 * than this) on one line with only JSON's escapes is read here, by JSON.parse as ./fast-yaml.ts does, and
 * handed to the composer as an empty single-quoted scalar; its value is put back on the node once the
 * document is composed. Other double-quoted scalars (a YAML-only escape, a tab, a line break) are left to yaml.
 */
const LONG_QUOTED = 1024;

/** Whether a line of `text` is longer than {@link LONG_QUOTED}: the only place a long quoted scalar fits on one line. */
function hasLongLine(text: string): boolean {
  for (let from = 0; from < text.length; ) {
    const nl = text.indexOf("\n", from);
    const end = nl === -1 ? text.length : nl;
    if (end - from > LONG_QUOTED) return true;
    from = end + 1;
  }
  return false;
}

/** `tokens` with each long single-line double-quoted value read into `values` (by offset) and blanked. */
function* readingLongQuoted(tokens: Iterable<CST.Token>, values: Map<number, string>): Generator<CST.Token> {
  for (const token of tokens) {
    // A walk of its own, not CST.visit: that one recurses, and a line of a million `{` nests that deep.
    const stack: CST.Token[] = token.type === "document" && token.value ? [token.value] : [];
    for (let t = stack.pop(); t !== undefined; t = stack.pop()) {
      if (t.type !== "block-map" && t.type !== "block-seq" && t.type !== "flow-collection") continue;
      for (const item of t.items) {
        if ("key" in item && item.key) stack.push(item.key);
        if (item.value) {
          readLongQuoted(item, item.value, values);
          stack.push(item.value);
        }
      }
    }
    yield token;
  }
}

function readLongQuoted(item: CST.CollectionItem, v: CST.Token, values: Map<number, string>): void {
  if (v.type !== "double-quoted-scalar" || v.source.length <= LONG_QUOTED) return;
  // A tag (`!!binary "…"`) resolves the text itself: left to yaml.
  if (item.start.some((t) => t.type === "tag") || item.sep?.some((t) => t.type === "tag")) return;
  const src = v.source;
  if (!src.endsWith('"') || src.includes("\n") || src.includes("\r")) return;
  let value: string;
  try {
    value = src.includes("\\") ? (JSON.parse(src) as string) : own(src.slice(1, -1));
  } catch {
    return; // an escape JSON does not have, or a control character: yaml reads it (and reports it)
  }
  values.set(v.offset, value);
  v.type = "single-quoted-scalar";
  v.source = "''";
}

/** Puts the values {@link readingLongQuoted} read back on the composed scalars. */
function restoreLongQuoted(doc: Document.Parsed, values: Map<number, string>): void {
  visit(doc, {
    Scalar(_key, node) {
      const at = node.range?.[0];
      const value = at === undefined ? undefined : values.get(at);
      if (value === undefined || node.type !== "QUOTE_SINGLE") return;
      node.value = value;
      node.type = "QUOTE_DOUBLE";
      values.delete(at!);
    },
  });
}

/** A yaml error as one line; running out of stack said as what it means. */
function yamlErrorText(e: { readonly message: string }): string {
  // yaml reports running out of stack as RESOURCE_EXHAUSTION, or as the error of the step it happened in.
  return /Maximum call stack size exceeded/.test(e.message) ? TOO_DEEP : e.message.split("\n")[0]!;
}

const TOO_DEEP = "nested too deeply to read: the YAML reader ran out of stack here (real manifests nest a few dozen levels)";

/**
 * A file that is one JSON object (a `.json` manifest, `kubectl get -o json`'s List), read by JSON.parse: yaml read
 * a 2.7 MB List of 10,000 ConfigMaps in 4.2 s and 258 MiB. JSON is YAML, and JSON.parse gives the values yaml
 * gives, except for a repeated key, which JSON.parse takes the last of and yaml (as kubectl) refuses: the keys
 * in the text are counted (a string followed by `:` is always a key) against the keys of the value, and a file
 * with fewer of the latter is left to yaml. So is anything JSON.parse refuses (comments, several documents).
 */
function jsonDocument(text: string): FastDocument[] | undefined {
  const first = /\S/.exec(text);
  if (first?.[0] !== "{") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(value)) return undefined;
  const keys = jsonKeys(value);
  return keys !== -1 && keys === keysInJson(text) ? [{ value, booleans: [] }] : undefined;
}

/**
 * The strings followed by `:` in `text`, which JSON.parse has read (so every `"` outside a string opens
 * one): string by string, each scanned once. A regular expression restarted inside strings: quadratic on a
 * long string with escaped quotes.
 */
function keysInJson(text: string): number {
  let n = 0;
  for (let open = text.indexOf('"'); open !== -1; ) {
    let close = text.indexOf('"', open + 1);
    for (;;) {
      let backslashes = 0;
      while (text.charCodeAt(close - 1 - backslashes) === 92 /* \ */) backslashes++;
      if (backslashes % 2 === 0) break;
      close = text.indexOf('"', close + 1);
    }
    let k = close + 1;
    for (let c = text.charCodeAt(k); c === 32 || c === 9 || c === 10 || c === 13; c = text.charCodeAt(++k));
    if (text.charCodeAt(k) === 58 /* : */) n++;
    open = text.indexOf('"', close + 1);
  }
  return n;
}

/**
 * The keys of every object in `v`, counted without recursion (a value may nest as deep as its text does), or
 * -1 when it nests more than {@link MAX_DEPTH} levels: yaml then reads the file and reports that.
 */
function jsonKeys(v: unknown): number {
  let n = 0;
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length) {
    const [x, depth] = stack.pop()!;
    if (x === null || typeof x !== "object") continue;
    if (depth >= MAX_DEPTH) return -1;
    if (Array.isArray(x)) for (const item of x) stack.push([item, depth + 1]);
    else {
      const keys = Object.keys(x);
      n += keys.length;
      for (const k of keys) stack.push([(x as Record<string, unknown>)[k], depth + 1]);
    }
  }
  return n;
}

/** The options yaml reads plain scalars with, for ./fast-yaml.ts (duplicate keys are declined there). */
const FAST_OPTIONS = { ...KUBECTL_YAML, uniqueKeys: true };

/**
 * What one document's value holds: its objects (a List's items each), or why it is skipped or broken.
 * `booleans(j)` are the YAML 1.1-only booleans of the document (`j` undefined) or of item `j` of its list.
 */
function take(
  value: unknown,
  file: string,
  extra: { document: number; source?: string },
  booleans: (j?: number) => { yaml11Booleans?: Yaml11Boolean[] },
): { objects: LoadedObject[]; skipped?: true; notManifest?: string; problems?: string[] } {
  if (!looksLikeObject(value) || isBuildTimeOnly(value.apiVersion)) return { objects: [], skipped: true };
  const why = notAManifest(value.apiVersion, value.kind);
  if (why !== undefined) return { objects: [], skipped: true, notManifest: why };
  if (value.kind.endsWith("List") && Array.isArray(value.items)) {
    const objects: LoadedObject[] = [];
    const problems: string[] = [];
    for (const [j, item] of value.items.entries()) {
      if (!looksLikeObject(item)) problems.push(`item ${j} of the ${value.kind} is not a Kubernetes object (needs apiVersion and kind)`);
      else objects.push({ file, ...withMetadata(item), ...extra, item: j, ...booleans(j) });
    }
    return problems.length ? { objects, problems } : { objects };
  }
  return { objects: [{ file, ...withMetadata(value), ...extra, ...booleans() }] };
}

/**
 * How deep an object may nest for the rules, which walk objects recursively. Real manifests nest a few dozen
 * levels (a CRD's schema the most); deeper would overflow a rule's stack (a crash), so such a document is an
 * input problem and is not checked. The fast reader declines past 100 levels and the JSON path past this, so
 * yaml's reading is the one place it is found.
 */
const MAX_DEPTH = 500;
const TOO_DEEP_FOR_RULES = `nested more than ${MAX_DEPTH} levels deep: not checked (real manifests nest a few dozen levels)`;

/** Whether `v` nests more than `max` maps and lists deep, found without recursion. */
function nestsDeeperThan(v: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length) {
    const [x, depth] = stack.pop()!;
    if (x === null || typeof x !== "object") continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(x) ? x : Object.values(x)) if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * parseManifests' result from the fast reader's documents, or undefined when a document needs what only
 * yaml's reading gives (a problem's line, a SOPS document's text range).
 */
function fromFastDocuments(docs: readonly FastDocument[], file: string): ParsedManifests | undefined {
  const objects: LoadedObject[] = [];
  let skipped = 0;
  let notManifest: string | undefined;
  for (const [i, doc] of docs.entries()) {
    if (doc.value === null) {
      skipped++;
      continue;
    }
    // The fast reader's strings are its own already (no ownStrings walk).
    const value = doc.value;
    if (isSopsDocument(value)) return undefined;
    const taken = take(value, file, { document: i + 1 }, (j) => fastBooleans(doc.booleans, j));
    if (taken.problems) return undefined;
    if (taken.notManifest !== undefined) notManifest ??= taken.notManifest;
    if (taken.skipped) skipped++;
    objects.push(...taken.objects);
  }
  return { objects, skipped, problems: [], ...(notManifest !== undefined && { notManifest }) };
}

/** The fast reader's booleans as booleansOf gives them: of the document, or of item `j` of its `items`. */
function fastBooleans(all: readonly FastBoolean[], j?: number): { yaml11Booleans?: Yaml11Boolean[] } {
  const out: Yaml11Boolean[] = [];
  for (const b of all) {
    let segs = b.segments;
    if (j !== undefined) {
      if (segs[0] !== "items" || segs[1] !== j) continue;
      segs = segs.slice(2);
    }
    out.push({ path: ptr(...segs), text: b.text, value: b.value });
  }
  return out.length ? { yaml11Booleans: out } : {};
}

/**
 * `v` with every string its own flat copy (in place; the same values). The parser's strings are slices of
 * the file's text, and a block scalar is a chain of one slice per line: kept in the loaded objects, they
 * held the whole text and the chains alive, about twice the objects' own size (kube-prometheus 5x: 33 MiB
 * retained, 13 MiB with copies). Strings under 13 characters are copies already.
 */
function ownStrings(v: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof v === "string") return own(v);
  if (typeof v !== "object" || v === null || seen.has(v)) return v;
  seen.add(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = ownStrings(v[i], seen);
  } else if (isPlainObject(v)) {
    for (const k of Object.keys(v)) {
      // Assigning `__proto__` would set the prototype, not the key the document has.
      if (k === "__proto__") continue;
      const x = v[k];
      if (typeof x === "object" || (typeof x === "string" && x.length >= 13)) v[k] = ownStrings(x, seen);
    }
  }
  return v;
}

/** `text` with everything outside `ranges` blanked, newlines kept so line numbers still hold. */
function onlyRanges(text: string, ranges: readonly [number, number][]): string {
  let out = "";
  let at = 0;
  for (const [start, end] of ranges) {
    out += text.slice(at, start).replace(/[^\n]/g, "") + text.slice(start, end);
    at = end;
  }
  return out + text.slice(at).replace(/[^\n]/g, "");
}

/**
 * The object with usable metadata, and what was wrong with it. A document without metadata used to
 * stop the whole check; now only that object is reported and everything else is still checked.
 */
function withMetadata(o: Record<string, unknown> & { kind: string }): { object: K8sObject; metadataProblem?: string } {
  const problem = metadataProblem(o);
  if (!problem) return { object: o as unknown as K8sObject };
  const md: Record<string, unknown> = isPlainObject(o.metadata) ? { ...o.metadata } : {};
  if (md.name !== undefined && typeof md.name !== "string") delete md.name;
  if (md.generateName !== undefined && typeof md.generateName !== "string") delete md.generateName;
  if (md.namespace !== undefined && typeof md.namespace !== "string") delete md.namespace;
  for (const key of ["labels", "annotations"] as const) if (md[key] !== undefined && md[key] !== null && !isPlainObject(md[key])) delete md[key];
  return { object: { ...o, metadata: md } as unknown as K8sObject, metadataProblem: problem };
}

function metadataProblem(o: Record<string, unknown> & { kind: string }): string | undefined {
  const md = o.metadata;
  if (!isPlainObject(md)) return `${o.kind} has no metadata`;
  if (typeof md.name !== "string" && typeof md.generateName !== "string") return `${o.kind} has no metadata.name`;
  if (md.namespace !== undefined && typeof md.namespace !== "string") return `${o.kind} ${String(md.name)} has a non-string metadata.namespace`;
  for (const key of ["labels", "annotations"] as const) {
    if (md[key] !== undefined && md[key] !== null && !isPlainObject(md[key])) return `${o.kind} ${String(md.name)} has metadata.${key} that is not a map`;
  }
  return undefined;
}

/** What walking a folder found: files to read, and what could not be walked. */
interface Walked {
  readonly files: string[];
  readonly problems: { path: string; message: string }[];
  readonly skipped: { path: string; reason: string }[];
}

/**
 * Manifest files below `root`, in name order. Symbolic links are followed once: a link back up the
 * tree (a loop), a dangling link and a folder that cannot be read are reported and the walk goes on.
 */
function walk(root: string, ignore: (abs: string, isDir: boolean) => boolean): Walked {
  const out: Walked = { files: [], problems: [], skipped: [] };
  const visited = new Set<string>();
  const visit = (dir: string) => {
    let real: string;
    let names: string[];
    try {
      real = realpathSync(dir);
      if (visited.has(real)) {
        out.skipped.push({ path: dir, reason: "symbolic link loop (the folder was already walked), skipped" });
        return;
      }
      visited.add(real);
      names = readdirSync(dir).sort();
    } catch (err) {
      out.problems.push({ path: dir, message: `cannot read the folder: ${errnoText(err)}` });
      return;
    }
    for (const name of names) {
      // Hidden folders hold VCS data or a build's staging copies, never manifests to check.
      if (name.startsWith(".") || name === "node_modules") continue;
      const p = join(dir, name);
      let st;
      try {
        st = statSync(p);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT") out.skipped.push({ path: p, reason: "dangling symbolic link, skipped" });
        else if (code === "ELOOP") out.skipped.push({ path: p, reason: "symbolic link loop, skipped" });
        else out.problems.push({ path: p, message: `cannot read: ${errnoText(err)}` });
        continue;
      }
      if (ignore(p, st.isDirectory())) continue;
      if (st.isDirectory()) visit(p);
      else if (st.isFile() && EXTENSIONS.some((e) => name.endsWith(e))) out.files.push(p);
    }
  };
  visit(root);
  return out;
}

function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code === "EACCES" ? "permission denied" : e.code === "ELOOP" ? "symbolic link loop" : e.code === "ENOENT" ? "no such file or folder" : e.message;
}

/**
 * A `.gitignore`-like matcher from `--exclude` globs and `.homelabignore` files: `*` within a path
 * segment, `**` across segments, a trailing `/` for folders only, `#` comments; a pattern without a
 * `/` matches a name at any depth, one with a `/` matches from the folder of the file it is in.
 */
export function excludeMatcher(patterns: readonly { glob: string; base: string }[]): (abs: string, isDir: boolean) => boolean {
  const compiled = patterns
    .map(({ glob, base }) => ({ glob: glob.trim(), base }))
    .filter(({ glob }) => glob !== "" && !glob.startsWith("#"))
    .map(({ glob, base }) => {
      const dirOnly = glob.endsWith("/");
      const g = glob.replace(/\/+$/, "").replace(/^\.\//, "");
      const anchored = g.includes("/");
      // `**/` is zero or more folders; any other `**` any run of characters.
      const body = g
        .replace(/^\//, "")
        .split("**/")
        .map((seg) =>
          seg
            .split("**")
            .map((part) => part.replace(/[.+^${}()|[\]\\?]/g, "\\$&").replace(/\*/g, "[^/]*"))
            .join(".*"),
        )
        .join("(?:.*/)?");
      return { re: new RegExp(anchored ? `^${body}$` : `(?:^|/)${body}$`), base, dirOnly };
    });
  return (abs, isDir) =>
    compiled.some(({ re, base, dirOnly }) => {
      if (dirOnly && !isDir) return false;
      const rel = relative(base, abs).split(sep).join("/");
      return !rel.startsWith("..") && re.test(rel);
    });
}

/** The ignore file read in each folder given to `check` (the `.gitignore` syntax, one glob a line). */
export const IGNORE_FILE = ".homelabignore";

function ignoreFileIn(dir: string): { glob: string; base: string }[] {
  const p = join(dir, IGNORE_FILE);
  if (!existsSync(p)) return [];
  return readFileSync(p, "utf8")
    .split(/\r?\n/)
    .map((glob) => ({ glob, base: dir }));
}

/**
 * Why a file is not YAML to check, decided from its bytes before any parse: binary (NUL bytes),
 * UTF-16 (kubectl reads UTF-8) or invalid UTF-8 (replacing bytes would check other text than kubectl
 * reads). Returns the decoded text otherwise.
 */
function decode(bytes: Buffer): { text: string } | { skip: string } | { problem: string } {
  const head = bytes.subarray(0, 8192);
  const utf16 = (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff) || /^(?:[^\0]\0){4}|^(?:\0[^\0]){4}/.test(head.subarray(0, 8).toString("latin1"));
  if (utf16) return { problem: "the file is UTF-16 text; kubectl reads UTF-8: convert it (iconv -f UTF-16 -t UTF-8)" };
  if (head.includes(0)) return { skip: "binary, skipped" };
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    const at = firstInvalidUtf8(bytes);
    return { problem: `invalid UTF-8 at byte ${at}: kubectl would not read this file as the text shown here` };
  }
}

/** Offset of the first byte that does not start or continue a UTF-8 sequence as its lead byte says. */
function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >> 5 === 6 ? 1 : c >> 4 === 14 ? 2 : c >> 3 === 30 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return 0; // an overlong form or a surrogate: the decoder refused it, the position is not pinned down
}

/** A file that is Helm's template source: `{{ … }}` actions, not YAML yet. */
// Helm's own names only: rendered manifests carry Go templates too (Alertmanager and PrometheusRule
// texts such as `{{ $labels.instance }}`), and those are data. Bounded, so it stays linear.
const HELM_ACTION = /\{\{-?[^}]{0,200}?(?:\.Values\b|\.Release\b|\.Chart\b|\.Capabilities\b|\.Files\b|\binclude\s+"|\btoYaml\b|\bnindent\b)/;

/** Paths in messages: relative to `cwd` with forward slashes, as the rendered tree names them. */
function display(abs: string, cwd: string): string {
  const rel = relative(cwd, abs);
  const shown = rel === "" || rel.startsWith("..") ? abs : rel;
  return shown.split(sep).join("/");
}

export interface LoadOptions {
  /**
   * Load what can be loaded and return the problems in `problems`, instead of throwing when there is
   * any. `check` uses it so that one broken file does not hide the others. @default false
   */
  readonly keepGoing?: boolean;
  /** Globs of files and folders to leave out (`--exclude`), relative to each folder given. @default [] */
  readonly exclude?: readonly string[];
  /** Base for relative paths and for the paths shown in messages. @default process.cwd() */
  readonly cwd?: string;
  /** Base for the paths shown in messages instead of `cwd` (e.g. the repository root). @default cwd */
  readonly displayBase?: string;
  /** Text (or bytes, checked for their encoding like a file's) to read for the path `-`. */
  readonly stdin?: string | Buffer;
  /** Told each file's size in bytes and its text as it is read, before it is parsed. */
  readonly onRead?: (bytes: number, text: string) => void;
}

/**
 * Loads every Kubernetes object from the given files and folders (folders recursively, `.yaml`,
 * `.yml` and `.json`, in name order). `-` reads `opts.stdin`. Throws ManifestLoadError listing
 * every unreadable path and broken document; nothing is returned half-loaded.
 */
export function loadManifests(paths: readonly string[], opts: LoadOptions = {}): LoadedManifests {
  const cwd = opts.cwd ?? process.cwd();
  const base = opts.displayBase ?? cwd;
  const problems: LoadProblem[] = [];
  const skippedFiles: SkippedFile[] = [];
  const inputs: { file: string; bytes: Buffer | string }[] = [];
  for (const p of paths) {
    if (p === "-") {
      if (opts.stdin === undefined) problems.push({ file: "-", message: "standard input is not available" });
      else inputs.push({ file: "<stdin>", bytes: opts.stdin });
      continue;
    }
    const abs = resolve(cwd, p);
    let isDir: boolean;
    try {
      isDir = statSync(abs).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push({ file: p, message: code === "ENOENT" ? "no such file or folder" : `cannot read: ${errnoText(err)}` });
      continue;
    }
    if (!isDir) {
      inputs.push({ file: abs, bytes: Buffer.alloc(0) });
      continue;
    }
    const w = walk(abs, excludeMatcher([...(opts.exclude ?? []).map((glob) => ({ glob, base: abs })), ...ignoreFileIn(abs)]));
    for (const x of w.problems) problems.push({ file: display(x.path, base), message: x.message });
    for (const x of w.skipped) skippedFiles.push({ file: display(x.path, base), reason: x.reason });
    for (const f of w.files) inputs.push({ file: f, bytes: Buffer.alloc(0) });
  }
  const objects: LoadedObject[] = [];
  const otherFiles: PolicyFile[] = [];
  let skippedDocuments = 0;
  const seen = new Set<string>();
  const patches = kustomizePatches(inputs.map((i) => i.file));
  for (const input of inputs) {
    const file = input.file === "<stdin>" ? input.file : display(input.file, base);
    // The same file named twice (a folder and a file in it) is checked once.
    if (seen.has(file)) continue;
    seen.add(file);
    const patchOf = patches.get(input.file);
    if (patchOf !== undefined) {
      skippedFiles.push({ file, reason: `kustomize patch (listed in ${display(patchOf, base)}), not a whole object: check the output of \`kustomize build\`` });
      continue;
    }
    let bytes: Buffer | string = input.bytes;
    if (input.file !== "<stdin>") {
      try {
        bytes = readFileSync(input.file);
      } catch (err) {
        problems.push({ file, message: `cannot read: ${errnoText(err)}` });
        continue;
      }
    }
    const size = typeof bytes === "string" ? Buffer.byteLength(bytes) : bytes.length;
    const decoded = typeof bytes === "string" ? { text: bytes } : decode(bytes);
    // The bytes are not needed once decoded: a big file is not held twice while it is parsed.
    bytes = "";
    if ("skip" in decoded) {
      skippedFiles.push({ file, reason: decoded.skip });
      continue;
    }
    if ("problem" in decoded) {
      problems.push({ file, message: decoded.problem });
      continue;
    }
    const text = decoded.text;
    opts.onRead?.(size, text);
    const yamlName = input.file === "<stdin>" || EXTENSIONS.includes(extname(input.file).toLowerCase());
    if (HELM_ACTION.test(text) && !/^#\s*Source:/m.test(text)) {
      skippedFiles.push({ file, reason: "Helm template, not rendered: run `helm template` and check its output" });
      continue;
    }
    const res = parseManifests(text, file);
    if (res.objects.length === 0 && res.problems.length > 0 && /\{\{[^}]{0,200}\}\}/.test(text)) {
      skippedFiles.push({ file, reason: "Helm template, not rendered: run `helm template` and check its output" });
      continue;
    }
    // A file named on the command line that is not YAML at all (a README, a program) is one line, not
    // one parser error per paragraph.
    if (!yamlName && res.objects.length === 0) {
      skippedFiles.push({ file, reason: res.problems.length ? "not YAML, skipped" : `not a Kubernetes manifest (${basename(input.file)} holds no object), skipped` });
      continue;
    }
    if (res.notManifest !== undefined && res.objects.length === 0 && res.problems.length === 0) {
      skippedFiles.push({ file, reason: `not a Kubernetes manifest: ${res.notManifest}` });
      continue;
    }
    if (res.notManifest !== undefined) skippedFiles.push({ file, reason: `some documents are not Kubernetes manifests: ${res.notManifest}` });
    problems.push(...capped(res.problems));
    objects.push(...res.objects);
    skippedDocuments += res.skipped;
    if (res.encrypted !== undefined) otherFiles.push({ path: file, content: res.objects.length ? res.encrypted : text });
    else if (res.objects.length === 0 && res.problems.length === 0 && text.trim() !== "") otherFiles.push({ path: file, content: text });
  }
  if (problems.length && !opts.keepGoing) throw new ManifestLoadError(problems);
  return { objects, otherFiles, skippedDocuments, filesRead: [...seen], skippedFiles, problems };
}

const KUSTOMIZATION_NAMES = new Set(["kustomization.yaml", "kustomization.yml", "Kustomization"]);

/**
 * The files the kustomizations among `files` apply as patches (`patches[].path`, `patchesStrategicMerge`,
 * `patchesJson6902[].path`), each with the kustomization that names it. A patch holds only the fields it
 * changes (a Deployment patch has no selector), so it is not judged as an object of its own. A
 * kustomization that cannot be read or parsed names nothing here; its own load reports it.
 */
function kustomizePatches(files: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of files) {
    if (k === "<stdin>" || !KUSTOMIZATION_NAMES.has(basename(k))) continue;
    let doc: unknown;
    try {
      doc = parseAllDocuments(readFileSync(k, "utf8"), { ...KUSTOMIZATION_PARSE })[0]?.toJS({ maxAliasCount: 100 });
    } catch {
      continue;
    }
    if (!isPlainObject(doc)) continue;
    const dir = resolve(k, "..");
    const paths: unknown[] = [];
    for (const key of ["patches", "patchesJson6902"]) if (Array.isArray(doc[key])) for (const p of doc[key]) if (isPlainObject(p)) paths.push(p.path);
    // `patchesStrategicMerge` entries are file names or inline YAML; only single-line ones can be files.
    if (Array.isArray(doc.patchesStrategicMerge)) paths.push(...doc.patchesStrategicMerge);
    for (const p of paths) if (typeof p === "string" && p !== "" && !p.includes("\n")) out.set(resolve(dir, p), k);
  }
  return out;
}

const KUSTOMIZATION_PARSE = { uniqueKeys: false } as const;

/** At most PROBLEMS_PER_FILE problems of one file, then one line counting the rest. */
function capped(ps: readonly LoadProblem[]): LoadProblem[] {
  if (ps.length <= PROBLEMS_PER_FILE) return [...ps];
  const rest = ps.length - PROBLEMS_PER_FILE;
  return [...ps.slice(0, PROBLEMS_PER_FILE), { file: ps[0]!.file, message: `… and ${rest} more problem${rest === 1 ? "" : "s"} in this file` }];
}

/** Every regular file below a folder (for host files: Compose stacks, configs), with display paths. */
export function loadFiles(dir: string, opts: { cwd?: string } = {}): PolicyFile[] {
  const cwd = opts.cwd ?? process.cwd();
  const abs = resolve(cwd, dir);
  if (!existsSync(abs)) return [];
  const out: PolicyFile[] = [];
  // The rendered host files are the repository's own: one that cannot be read stops the check with its
  // path, rather than a stack trace or a silently smaller check.
  const io = <T>(p: string, what: string, f: () => T): T => {
    try {
      return f();
    } catch (err) {
      throw new UserError(`${display(p, cwd)}: cannot read the ${what}: ${errnoText(err)}`);
    }
  };
  const visit = (d: string) => {
    for (const name of io(d, "folder", () => readdirSync(d)).sort()) {
      if (name.startsWith(".")) continue;
      const p = join(d, name);
      const st = io(p, "file", () => statSync(p));
      if (st.isDirectory()) visit(p);
      else if (st.isFile()) out.push({ path: display(p, cwd), content: io(p, "file", () => readFileSync(p, "utf8")) });
    }
  };
  visit(abs);
  return out;
}
