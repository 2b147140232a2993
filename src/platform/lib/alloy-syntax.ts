/**
 * A small writer for Grafana Alloy's configuration syntax (the language formerly called River), so the
 * log pipeline is built from typed TypeScript values instead of a template: strings are always quoted
 * and escaped, references to other components are explicit, and the output is indented the way the
 * Alloy docs write it. It covers what the homelab's pipeline uses: blocks with labels, attributes,
 * strings, numbers, booleans, lists, objects and references.
 */

/** An expression written as is: a reference to another component's export, a call, a concatenation. */
export class AlloyExpr {
  constructor(
    readonly text: string,
    /** Set for references: the component export it reads, checked against the declared components. */
    readonly isRef = false,
  ) {}
}
/** A reference to another component's export, e.g. `loki.write.default.receiver`. */
export function ref(path: string): AlloyExpr {
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(path)) throw new Error(`not an Alloy reference: ${path}`);
  return new AlloyExpr(path, true);
}
/** Any other expression (`"a=" + sys.env("HOSTNAME")`); keep these few and simple. */
export const expr = (text: string): AlloyExpr => new AlloyExpr(text);

export type AlloyValue = string | number | boolean | AlloyExpr | readonly AlloyValue[] | { readonly [key: string]: AlloyValue };

/** A block: `name "label" { … }`. Body entries are attributes (`[key, value]`) or nested blocks, in order. */
export interface AlloyBlock {
  readonly name: string;
  readonly label?: string;
  readonly body: readonly (AlloyBlock | readonly [string, AlloyValue])[];
  /** A comment line written above the block. */
  readonly comment?: string;
}

export const block = (name: string, label: string | undefined, body: AlloyBlock["body"], comment?: string): AlloyBlock => ({
  name,
  ...(label !== undefined && { label }),
  body,
  ...(comment !== undefined && { comment }),
});

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BLOCK_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Alloy string literal: Go-style escapes; JSON's are a subset Alloy reads. */
function quote(s: string): string {
  return JSON.stringify(s);
}

function value(v: AlloyValue, indent: string): string {
  if (v instanceof AlloyExpr) return v.text;
  if (typeof v === "string") return quote(v);
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`Alloy has no literal for ${v}`);
    return String(v);
  }
  if (typeof v === "boolean") return v ? "true" : "false";
  const inner = indent + "  ";
  if (Array.isArray(v)) {
    const items = v as readonly AlloyValue[];
    if (items.length === 0) return "[]";
    const flat = items.map((x) => value(x, inner));
    if (items.every((x) => typeof x !== "object" || x instanceof AlloyExpr) && flat.join(", ").length <= 80) return `[${flat.join(", ")}]`;
    return `[\n${flat.map((x) => `${inner}${x},`).join("\n")}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, AlloyValue>);
  if (entries.length === 0) return "{}";
  const width = Math.max(...entries.map(([k]) => key(k).length));
  return `{\n${entries.map(([k, x]) => `${inner}${key(k).padEnd(width)} = ${value(x, inner)},`).join("\n")}\n${indent}}`;
}

function key(k: string): string {
  return IDENT.test(k) ? k : quote(k);
}

function render(b: AlloyBlock, indent: string): string {
  if (!BLOCK_NAME.test(b.name)) throw new Error(`invalid Alloy block name: ${b.name}`);
  const head = `${b.name}${b.label !== undefined ? ` ${quote(b.label)}` : ""}`;
  const comment = b.comment ? b.comment.split("\n").map((l) => `${indent}// ${l}\n`).join("") : "";
  if (b.body.length === 0) return `${comment}${indent}${head} { }`;
  const inner = indent + "  ";
  const attrs = b.body.filter((e): e is readonly [string, AlloyValue] => Array.isArray(e));
  const width = Math.max(0, ...attrs.map(([k]) => k.length));
  const lines = b.body.map((e) => {
    if (Array.isArray(e)) {
      const [k, v] = e as readonly [string, AlloyValue];
      if (!IDENT.test(k)) throw new Error(`invalid Alloy attribute name: ${k}`);
      return `${inner}${k.padEnd(width)} = ${value(v, inner)}`;
    }
    return render(e as AlloyBlock, inner);
  });
  return `${comment}${indent}${head} {\n${lines.join("\n")}\n${indent}}`;
}

function refsOf(v: unknown, out: AlloyExpr[]): void {
  if (v instanceof AlloyExpr) {
    if (v.isRef) out.push(v);
  } else if (Array.isArray(v)) for (const x of v) refsOf(x, out);
  else if (v !== null && typeof v === "object") for (const x of Object.values(v)) refsOf(x, out);
}

function blockRefs(b: AlloyBlock, out: AlloyExpr[]): void {
  for (const e of b.body) {
    if (Array.isArray(e)) refsOf((e as readonly [string, AlloyValue])[1], out);
    else blockRefs(e as AlloyBlock, out);
  }
}

/**
 * The configuration file: top-level blocks separated by a blank line. Every reference must name a
 * component declared in the same file (`loki.write.default.receiver` needs `loki.write "default"`), and no
 * component may be declared twice: Alloy refuses both at load time, we refuse them at build time.
 */
export function alloyConfig(blocks: readonly AlloyBlock[]): string {
  const ids = new Set<string>();
  for (const b of blocks) {
    if (b.label === undefined) continue;
    const id = `${b.name}.${b.label}`;
    if (ids.has(id)) throw new Error(`Alloy component ${b.name} "${b.label}" is declared twice`);
    ids.add(id);
  }
  const refs: AlloyExpr[] = [];
  for (const b of blocks) blockRefs(b, refs);
  for (const r of refs) {
    if (![...ids].some((id) => r.text.startsWith(`${id}.`)))
      throw new Error(`Alloy reference ${r.text} names no component of this configuration (declared: ${[...ids].join(", ")})`);
  }
  return blocks.map((b) => render(b, "")).join("\n\n") + "\n";
}
