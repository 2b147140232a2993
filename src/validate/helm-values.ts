/**
 * Checks the Helm values we set against the pinned chart's own defaults and schema.
 *
 * Helm silently ignores a misspelled key, so every key path we set must exist in the chart's
 * values.yaml (or be declared in its values.schema.json). Maps the chart leaves empty (`{}` or
 * absent, such as ingress-nginx `controller.config`) accept anything, so writing into one must be
 * allowed explicitly with a reason. A list we set replaces the chart's list wholesale, so it is not
 * compared index by index; a key in one of its elements that nearly matches a key of the chart's
 * example elements is reported as a likely typo. Where the chart ships a
 * values.schema.json, the merged values are validated against it as `helm install` would.
 *
 * The schema check is a small interpreter of the JSON Schema draft-07 keywords. It is used instead
 * of a compiling validator because compiling a large chart schema (loki's is ~570 kB) costs a
 * third of a second per build, while interpreting it over one values tree takes milliseconds. A
 * keyword it does not implement is reported, never silently skipped.
 */
import type { Issue } from "../errors.ts";
import { isPlainObject } from "../model/k8s.ts";

/** A values path below which anything may be set, and why that is acceptable. */
export interface FreeformPath {
  /** Dotted path as in `helm --set` (`controller.config`); escape a dot inside a key as `\.`. */
  readonly path: string;
  /** Why this map is free-form (e.g. "ingress-nginx ConfigMap options, see its docs"); must not be empty. */
  readonly reason: string;
}

export interface HelmValuesInput {
  /** Chart name, used in every message. */
  readonly chart: string;
  /** Chart version, used in every message. */
  readonly version: string;
  /** The values we pass to the chart. */
  readonly values: unknown;
  /** The chart's values.yaml, parsed. */
  readonly defaults: unknown;
  /**
   * The chart's values.schema.json, parsed, when it ships one.
   * @default undefined (no schema check)
   */
  readonly schema?: unknown;
  /**
   * Paths whose subtrees are free-form.
   * @default []
   */
  readonly freeform?: readonly FreeformPath[];
}

type Seg = string;

/** `controller.config`, with dots inside keys escaped, `[i]` for list elements. */
function dotted(segs: readonly Seg[]): string {
  let out = "";
  for (const s of segs) {
    if (/^\[\d+\]$/.test(s)) out += s;
    else out += (out ? "." : "") + s.replace(/\\/g, "\\\\").replace(/\./g, "\\.");
  }
  return out;
}

function pointer(segs: readonly Seg[]): string {
  return segs.map((s) => "/" + (/^\[\d+\]$/.test(s) ? s.slice(1, -1) : s.replace(/~/g, "~0").replace(/\//g, "~1"))).join("");
}

/** The segments of a dotted values path; `\.` is a dot inside a key. */
export function parseDotted(path: string): Seg[] {
  const segs: Seg[] = [];
  let cur = "";
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c === "\\" && i + 1 < path.length) {
      cur += path[++i];
    } else if (c === ".") {
      segs.push(cur);
      cur = "";
    } else {
      cur += c;
    }
  }
  segs.push(cur);
  return segs;
}

// ---------------------------------------------------------------------------------------------
// Suggestions

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** The sibling the operator most likely meant, if one is close enough to be a typo. */
export function suggest(key: string, siblings: Iterable<string>): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  let tie = false;
  for (const s of siblings) {
    const d = editDistance(lower, s.toLowerCase());
    const limit = Math.max(2, Math.floor(Math.max(key.length, s.length) / 3));
    if (d > limit) continue;
    if (d < bestScore) {
      best = s;
      bestScore = d;
      tie = false;
    } else if (d === bestScore) {
      tie = true;
    }
  }
  if (best !== undefined && !tie) return best;
  if (best !== undefined) return undefined;
  // A truncated or re-suffixed key (`replicas` for `replicaCount`): accept one clear prefix match.
  const byPrefix = [...siblings].filter((s) => {
    const p = commonPrefix(lower, s.toLowerCase());
    return p >= 5 && p >= 0.6 * Math.min(key.length, s.length);
  });
  return byPrefix.length === 1 ? byPrefix[0] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Schema navigation (for keys the chart documents only in its schema)

function resolveRef(root: unknown, ref: string): unknown {
  if (!ref.startsWith("#")) return undefined;
  let cur: unknown = root;
  const frag = ref.slice(1);
  if (frag === "") return root;
  if (!frag.startsWith("/")) return undefined;
  for (const raw of frag.slice(1).split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (isPlainObject(cur)) cur = cur[key];
    else if (Array.isArray(cur) && /^\d+$/.test(key)) cur = cur[Number(key)];
    else return undefined;
  }
  return cur;
}

/** Follows `$ref` chains; gives up (undefined) on remote or cyclic references. */
function deref(root: unknown, s: unknown): unknown {
  let cur = s;
  for (let i = 0; i < 32 && isPlainObject(cur) && typeof cur.$ref === "string"; i++) cur = resolveRef(root, cur.$ref);
  return isPlainObject(cur) && typeof cur.$ref === "string" ? undefined : cur;
}

/** The sub-schema `properties[key]` declares, looking through `$ref` and `allOf`. */
function declaredProperty(root: unknown, s: unknown, key: string): unknown {
  const node = deref(root, s);
  if (!isPlainObject(node)) return undefined;
  const props = node.properties;
  if (isPlainObject(props) && Object.hasOwn(props, key)) return props[key];
  if (Array.isArray(node.allOf)) {
    for (const sub of node.allOf) {
      const found = declaredProperty(root, sub, key);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function declaredKeys(root: unknown, s: unknown, out = new Set<string>()): Set<string> {
  const node = deref(root, s);
  if (!isPlainObject(node)) return out;
  if (isPlainObject(node.properties)) for (const k of Object.keys(node.properties)) out.add(k);
  if (Array.isArray(node.allOf)) for (const sub of node.allOf) declaredKeys(root, sub, out);
  return out;
}

function itemsOf(root: unknown, s: unknown): unknown {
  const node = deref(root, s);
  return isPlainObject(node) && isPlainObject(node.items) ? node.items : undefined;
}

// ---------------------------------------------------------------------------------------------
// Key paths against defaults

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "list";
  if (isPlainObject(v)) return "map";
  return typeof v;
}

/** Deep merge of a list's example elements: the keys any one of them shows. */
function unionOfElements(list: readonly unknown[]): Record<string, unknown> | undefined {
  const objs = list.filter(isPlainObject);
  if (objs.length === 0) return undefined;
  const merge = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) {
      const prev = out[k];
      out[k] = isPlainObject(prev) && isPlainObject(v) ? merge(prev, v) : prev === undefined || prev === null ? v : prev;
    }
    return out;
  };
  return objs.reduce(merge, {});
}

interface KeyCheck {
  readonly report: (segs: readonly Seg[], message: string) => void;
  readonly allowed: (segs: readonly Seg[]) => boolean;
  readonly schemaRoot: unknown;
}

/**
 * `lenient` is set inside list elements: the chart's example elements show some keys that exist,
 * so a near miss of one of them is reported, but a new key or an empty example map is not.
 */
function checkKeys(ctx: KeyCheck, ours: Record<string, unknown>, defaults: unknown, schema: unknown, segs: Seg[], lenient: boolean): void {
  const defaultMap = isPlainObject(defaults) ? defaults : {};
  for (const [key, value] of Object.entries(ours)) {
    const child = [...segs, key];
    if (ctx.allowed(child)) continue;
    const hasDefault = Object.hasOwn(defaultMap, key);
    const childSchema = schema === undefined ? undefined : declaredProperty(ctx.schemaRoot, schema, key);
    if (!hasDefault && childSchema === undefined) {
      const siblings = new Set([...Object.keys(defaultMap), ...declaredKeys(ctx.schemaRoot, schema)]);
      const hint = suggest(key, siblings);
      // The chart's list elements are examples, not a full list of keys: there, only a near miss
      // of a key they show is taken for a typo.
      if (lenient && hint === undefined) continue;
      const where = segs.length ? `under ${dotted(segs)}` : "at the top level";
      ctx.report(
        child,
        `unknown key ${dotted(child)}: the chart has no such value ${where}` + (hint ? `; did you mean ${dotted([...segs, hint])}?` : ""),
      );
      continue;
    }
    const def = hasDefault ? defaultMap[key] : undefined;
    checkValue(ctx, value, def, childSchema, child, lenient);
  }
}

function checkValue(ctx: KeyCheck, value: unknown, def: unknown, schema: unknown, segs: Seg[], lenient: boolean): void {
  if (isPlainObject(value)) {
    if (Object.keys(value).length === 0) return;
    if (isPlainObject(def) && Object.keys(def).length > 0) {
      checkKeys(ctx, value, def, schema, segs, lenient);
    } else if (def === undefined || def === null || isPlainObject(def)) {
      if (schema !== undefined && declaredKeys(ctx.schemaRoot, schema).size > 0) {
        checkKeys(ctx, value, {}, schema, segs, lenient);
      } else if (!lenient) {
        ctx.report(
          segs,
          `${dotted(segs)} is a free-form map in the chart (its default is ${def === undefined ? "absent" : JSON.stringify(def)}); ` +
            `allow it in freeform with a reason to set keys below it`,
        );
      }
    } else if (!lenient) {
      ctx.report(segs, `${dotted(segs)} is a ${kindOf(def)} in the chart's defaults, not a map`);
    }
    return;
  }
  if (Array.isArray(value)) {
    if (Array.isArray(def)) {
      const union = unionOfElements(def);
      if (!union) return;
      const itemSchema = schema === undefined ? undefined : itemsOf(ctx.schemaRoot, schema);
      value.forEach((el, i) => {
        if (isPlainObject(el)) checkKeys(ctx, el, union, itemSchema, [...segs, `[${i}]`], true);
      });
    } else if (isPlainObject(def) && Object.keys(def).length > 0 && !lenient) {
      ctx.report(segs, `${dotted(segs)} is a map in the chart's defaults, not a list`);
    }
    return;
  }
  if (value === null || lenient) return;
  // A scalar over a non-empty map: Helm warns "not a table" and keeps the chart's map.
  if (isPlainObject(def) && Object.keys(def).length > 0) {
    ctx.report(segs, `${dotted(segs)} is a map in the chart's defaults; Helm would ignore this ${kindOf(value)}`);
  } else if (schema === undefined && (typeof def === "boolean" || typeof def === "number") && typeof value !== typeof def) {
    // Where the chart's schema describes the value, it decides which types are allowed.
    // Templates test these with `if`/arithmetic, where the string "false" is true and "2" is not a number.
    ctx.report(segs, `${dotted(segs)} is a ${typeof def} in the chart's defaults, not a ${kindOf(value)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Helm's merge of user values over chart defaults

/** Maps merge key by key, anything else replaces, and `null` removes the chart's key. */
export function coalesceValues(defaults: unknown, values: unknown): unknown {
  if (!isPlainObject(values)) return values === undefined ? defaults : values;
  if (!isPlainObject(defaults)) return values;
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(values)) {
    if (v === null) delete out[k];
    else out[k] = coalesceValues(defaults[k], v);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON Schema (draft-07) interpreter

interface SchemaError {
  readonly path: string;
  readonly message: string;
  readonly unknownKey?: boolean;
}

const ANNOTATIONS = new Set([
  "$schema", "$id", "id", "$comment", "title", "description", "default", "examples", "deprecated", "readOnly",
  "writeOnly", "definitions", "$defs", "format", "contentEncoding", "contentMediaType",
  // Subschemas evaluated together with their owner keyword.
  "then", "else", "additionalItems",
]);

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function typeMatches(v: unknown, t: string): boolean {
  const actual = jsonType(v);
  return actual === t || (t === "number" && actual === "integer");
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

class SchemaInterpreter {
  readonly unsupported = new Map<string, string>();
  private readonly patterns = new Map<string, RegExp>();
  constructor(private readonly root: unknown) {}

  validate(schema: unknown, value: unknown, path: string, out: SchemaError[], at: string): void {
    if (schema === true || schema === undefined) return;
    if (schema === false) {
      out.push({ path, message: "is not allowed by the chart's schema" });
      return;
    }
    if (!isPlainObject(schema)) return;
    if (typeof schema.$ref === "string") {
      // draft-07: keywords beside $ref are ignored.
      const target = resolveRef(this.root, schema.$ref);
      if (target === undefined) this.unsupported.set(`$ref ${schema.$ref}`, at);
      else this.validate(target, value, path, out, schema.$ref);
      return;
    }
    for (const [kw, arg] of Object.entries(schema)) {
      this.keyword(schema, kw, arg, value, path, out, at);
    }
  }

  private regex(p: string): RegExp {
    let re = this.patterns.get(p);
    if (!re) {
      re = new RegExp(p, "u");
      this.patterns.set(p, re);
    }
    return re;
  }

  private passes(schema: unknown, value: unknown, path: string, at: string): SchemaError[] {
    const errs: SchemaError[] = [];
    this.validate(schema, value, path, errs, at);
    return errs;
  }

  private keyword(
    schema: Record<string, unknown>,
    kw: string,
    arg: unknown,
    v: unknown,
    path: string,
    out: SchemaError[],
    at: string,
  ): void {
    const fail = (message: string): void => {
      out.push({ path, message });
    };
    const obj = isPlainObject(v) ? v : undefined;
    const arr = Array.isArray(v) ? v : undefined;
    switch (kw) {
      case "type": {
        const types = Array.isArray(arg) ? (arg as string[]) : [arg as string];
        if (!types.some((t) => typeMatches(v, t))) fail(`must be ${types.join(" or ")} (is ${jsonType(v)})`);
        return;
      }
      case "enum":
        if (Array.isArray(arg) && !arg.some((x) => deepEqual(x, v))) {
          fail(`must be one of ${arg.map((x) => JSON.stringify(x)).join(", ")}`);
        }
        return;
      case "const":
        if (!deepEqual(arg, v)) fail(`must be ${JSON.stringify(arg)}`);
        return;
      case "properties":
        if (obj && isPlainObject(arg)) {
          for (const [k, sub] of Object.entries(arg)) {
            if (Object.hasOwn(obj, k)) this.validate(sub, obj[k], `${path}/${esc(k)}`, out, `${at}/properties/${k}`);
          }
        }
        return;
      case "patternProperties":
        if (obj && isPlainObject(arg)) {
          for (const [p, sub] of Object.entries(arg)) {
            for (const k of Object.keys(obj)) {
              if (this.regex(p).test(k)) this.validate(sub, obj[k], `${path}/${esc(k)}`, out, `${at}/patternProperties`);
            }
          }
        }
        return;
      case "additionalProperties":
        if (obj) {
          const props = isPlainObject(schema.properties) ? schema.properties : {};
          const pats = isPlainObject(schema.patternProperties) ? Object.keys(schema.patternProperties) : [];
          for (const k of Object.keys(obj)) {
            if (Object.hasOwn(props, k) || pats.some((p) => this.regex(p).test(k))) continue;
            if (arg === false) out.push({ path: `${path}/${esc(k)}`, message: `key "${k}" is not allowed by the chart's schema`, unknownKey: true });
            else this.validate(arg, obj[k], `${path}/${esc(k)}`, out, `${at}/additionalProperties`);
          }
        }
        return;
      case "required":
        if (obj && Array.isArray(arg)) {
          for (const k of arg as string[]) if (!Object.hasOwn(obj, k)) fail(`must have key "${k}"`);
        }
        return;
      case "propertyNames":
        if (obj) for (const k of Object.keys(obj)) this.validate(arg, k, `${path}/${esc(k)}`, out, `${at}/propertyNames`);
        return;
      case "minProperties":
        if (obj && Object.keys(obj).length < (arg as number)) fail(`must have at least ${arg} keys`);
        return;
      case "maxProperties":
        if (obj && Object.keys(obj).length > (arg as number)) fail(`must have at most ${arg} keys`);
        return;
      case "dependencies":
        if (obj && isPlainObject(arg)) {
          for (const [k, dep] of Object.entries(arg)) {
            if (!Object.hasOwn(obj, k)) continue;
            if (Array.isArray(dep)) {
              for (const r of dep as string[]) if (!Object.hasOwn(obj, r)) fail(`must have key "${r}" when "${k}" is set`);
            } else {
              this.validate(dep, v, path, out, `${at}/dependencies/${k}`);
            }
          }
        }
        return;
      case "items":
        if (arr) {
          if (Array.isArray(arg)) {
            arr.forEach((x, i) => {
              const sub = i < arg.length ? arg[i] : schema.additionalItems;
              this.validate(sub, x, `${path}/${i}`, out, `${at}/items/${i}`);
            });
          } else {
            arr.forEach((x, i) => this.validate(arg, x, `${path}/${i}`, out, `${at}/items`));
          }
        }
        return;
      case "contains":
        if (arr && !arr.some((x, i) => this.passes(arg, x, `${path}/${i}`, at).length === 0)) fail("must contain a matching element");
        return;
      case "minItems":
        if (arr && arr.length < (arg as number)) fail(`must have at least ${arg} elements`);
        return;
      case "maxItems":
        if (arr && arr.length > (arg as number)) fail(`must have at most ${arg} elements`);
        return;
      case "uniqueItems":
        if (arr && arg === true && arr.some((x, i) => arr.slice(0, i).some((y) => deepEqual(x, y)))) fail("must not contain duplicates");
        return;
      case "minLength":
        if (typeof v === "string" && [...v].length < (arg as number)) fail(`must be at least ${arg} characters`);
        return;
      case "maxLength":
        if (typeof v === "string" && [...v].length > (arg as number)) fail(`must be at most ${arg} characters`);
        return;
      case "pattern":
        if (typeof v === "string" && !this.regex(arg as string).test(v)) fail(`must match ${arg}`);
        return;
      case "minimum":
        if (typeof v === "number" && v < (arg as number)) fail(`must be >= ${arg}`);
        return;
      case "maximum":
        if (typeof v === "number" && v > (arg as number)) fail(`must be <= ${arg}`);
        return;
      case "exclusiveMinimum":
        if (typeof v === "number" && v <= (arg as number)) fail(`must be > ${arg}`);
        return;
      case "exclusiveMaximum":
        if (typeof v === "number" && v >= (arg as number)) fail(`must be < ${arg}`);
        return;
      case "multipleOf":
        if (typeof v === "number" && !Number.isInteger(v / (arg as number))) fail(`must be a multiple of ${arg}`);
        return;
      case "allOf":
        if (Array.isArray(arg)) arg.forEach((sub, i) => this.validate(sub, v, path, out, `${at}/allOf/${i}`));
        return;
      case "anyOf":
        if (Array.isArray(arg)) {
          const results = arg.map((sub, i) => this.passes(sub, v, path, `${at}/anyOf/${i}`));
          if (!results.some((r) => r.length === 0)) fail(`must match one of the allowed shapes: ${summarize(results, path)}`);
        }
        return;
      case "oneOf":
        if (Array.isArray(arg)) {
          const results = arg.map((sub, i) => this.passes(sub, v, path, `${at}/oneOf/${i}`));
          const ok = results.filter((r) => r.length === 0).length;
          if (ok === 0) fail(`must match exactly one of the allowed shapes: ${summarize(results, path)}`);
          else if (ok > 1) fail("matches more than one of the allowed shapes");
        }
        return;
      case "not":
        if (this.passes(arg, v, path, at).length === 0) fail("matches a shape the chart's schema forbids");
        return;
      case "if":
        if (this.passes(arg, v, path, at).length === 0) this.validate(schema.then, v, path, out, `${at}/then`);
        else this.validate(schema.else, v, path, out, `${at}/else`);
        return;
      default:
        if (!ANNOTATIONS.has(kw) && !kw.startsWith("x-")) this.unsupported.set(kw, at);
    }
  }
}

function esc(k: string): string {
  return k.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** One alternative per failed branch, paths relative to where the alternatives apply. */
function summarize(branches: SchemaError[][], base: string): string {
  const rel = (e: SchemaError): string => (e.path.length > base.length ? `${e.path.slice(base.length)} ` : "");
  return branches.map((b) => b.map((e) => rel(e) + e.message).join(" and ")).join(" | ");
}

// ---------------------------------------------------------------------------------------------

/**
 * Checks the values we set for one chart: unknown keys (with a suggestion), free-form maps set
 * without an allowance, type clashes with the chart's defaults, and the chart's values.schema.json
 * over the merged values. Returns every finding; an empty list means the values are accepted.
 */
export function checkHelmValues(input: HelmValuesInput): Issue[] {
  const subject = `chart ${input.chart}@${input.version}`;
  const issues: Issue[] = [];
  const add = (path: string, message: string): void => {
    issues.push({ subject, path, message, check: "helm-values" });
  };

  const allowances: Seg[][] = [];
  for (const f of input.freeform ?? []) {
    if (!f.reason || f.reason.trim() === "") {
      add(pointer(parseDotted(f.path)), `free-form allowance for ${f.path} needs a reason`);
      continue;
    }
    allowances.push(parseDotted(f.path));
  }
  const allowed = (segs: readonly Seg[]): boolean =>
    allowances.some((a) => a.length <= segs.length && a.every((s, i) => s === segs[i]));

  if (input.values !== undefined && input.values !== null && !isPlainObject(input.values)) {
    add("", `values must be a map, not a ${kindOf(input.values)}`);
    return issues;
  }
  const values = isPlainObject(input.values) ? input.values : {};
  const ctx: KeyCheck = {
    report: (segs, message) => add(pointer(segs), message),
    allowed,
    schemaRoot: input.schema,
  };
  checkKeys(ctx, values, input.defaults, input.schema, [], false);

  if (input.schema !== undefined) {
    const interp = new SchemaInterpreter(input.schema);
    const errors: SchemaError[] = [];
    interp.validate(input.schema, coalesceValues(input.defaults, values), "", errors, "#");
    const reported = new Set(issues.map((i) => i.path));
    for (const e of errors) {
      // An unknown key the defaults check already named needs no second message.
      if (e.unknownKey && reported.has(e.path)) continue;
      add(e.path, `values.schema.json: ${e.message}`);
    }
    for (const [kw, at] of interp.unsupported) {
      add("", `values.schema.json uses "${kw}" (at ${at}), which this check does not evaluate; the schema check is incomplete`);
    }
  }
  return issues;
}
