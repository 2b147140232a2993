/**
 * sops' tree path syntax (`["data"]["token"]`, `["list"][0]`) and `decrypt --extract`
 * (cmd/sops/main.go parseTreePath, cmd/sops/decrypt.go extract, sops.go TreeBranch.Truncate).
 */
import { UserError } from "../errors.ts";
import { SECRETS_EXIT } from "./errors.ts";
import { emitPlainBytes, emitYaml, emitJson, type SopsFormat, type StoreOptions } from "./stores.ts";
import { Branch, BytesValue, Comment, type Value } from "./tree.ts";

/** A path sops could not parse: exit 91 (codes.InvalidTreePathFormat). */
export class TreePathError extends UserError {
  constructor(message: string) {
    super(message, SECRETS_EXIT.invalidTreePath);
    this.name = "TreePathError";
  }
}

/**
 * Parses sops' path syntax: components `["key"]` or `['key']` (the text between the quotes, taken
 * as it is, no escapes) and `[N]` list indexes.
 */
export function parseTreePath(arg: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of arg.split("[")) {
    if (part === "") continue;
    if (!part.endsWith("]")) throw new TreePathError(`invalid path ${JSON.stringify(arg)}: component ${part} doesn't end with ]`);
    const c = part.slice(0, -1);
    if (c.startsWith('"') || c.startsWith("'")) {
      if (c.length < 2 || c[c.length - 1] !== c[0]) throw new TreePathError(`invalid path ${JSON.stringify(arg)}: component ${part} has no closing quote`);
      out.push(c.slice(1, -1));
    } else if (/^[+-]?\d+$/.test(c)) {
      const n = Number(c);
      if (n < 0) throw new TreePathError(`invalid path ${JSON.stringify(arg)}: index ${c} is negative`);
      out.push(n);
    } else throw new TreePathError(`invalid path ${JSON.stringify(arg)}: component [${c}] is neither a quoted key nor a number`);
  }
  return out;
}

/** The value at a path, with sops' wording when it is not there. List indexes skip comments. */
export function truncate(doc: Branch, path: readonly (string | number)[]): Value {
  let cur: Value = doc;
  for (const p of path) {
    if (typeof p === "string") {
      const item: { value: Value } | undefined = cur instanceof Branch ? cur.items.find((i) => i.key === p) : undefined;
      if (!item) throw new UserError(`component ['${p}'] not found`);
      cur = item.value;
    } else {
      if (!Array.isArray(cur)) throw new UserError(`component [${p}] is integer, but tree part is not a slice`);
      const items: Value[] = cur.filter((x) => !(x instanceof Comment));
      if (p >= items.length) throw new UserError(`component [${p}] accesses out of bounds`);
      cur = items[p]!;
    }
  }
  return cur;
}

/**
 * What `decrypt --extract` prints: a string as its bare bytes (no newline), a map as a document of
 * the output store, any other value as that store writes a single value.
 */
export function extractBytes(doc: Branch, path: readonly (string | number)[], format: SopsFormat, store: StoreOptions = {}): Buffer {
  const v = truncate(doc, path);
  if (typeof v === "string") return Buffer.from(v, "utf8");
  if (v instanceof BytesValue) return Buffer.from(v.bytes);
  if (v instanceof Branch) return emitPlainBytes([v], format, store);
  switch (format) {
    case "binary":
      throw new UserError("Binary files are not structured and extracting a single value is not possible");
    case "dotenv":
      throw new UserError("the dotenv store only supports emitting strings");
    case "ini":
      // sops' INI store writes any other single value as JSON (stores/ini/store.go encodeValue).
    {
      const text = emitJson(new Branch([{ key: "v", value: v }]), 0);
      return Buffer.from(text.slice(text.indexOf(":") + 2, text.lastIndexOf("\n}")), "utf8");
    }
    case "json": {
      // A single JSON value: wrap it so the JSON writer formats it, then take the value back out.
      const text = emitJson(new Branch([{ key: "v", value: v }]), store.jsonIndent ?? -1);
      const body = text.slice(text.indexOf(":") + 2, text.lastIndexOf("\n}"));
      return Buffer.from(dedent(body, store.jsonIndent ?? -1) + "\n", "utf8");
    }
    case "yaml": {
      const text = emitYaml([new Branch([{ key: "v", value: v }])], store.yamlIndent ?? 4);
      const body = text.startsWith("v:\n") ? text.slice(3) : text.slice(3);
      return Buffer.from(dedent(body, store.yamlIndent ?? 4), "utf8");
    }
  }
}

function dedent(text: string, indent: number): string {
  const pad = indent < 0 ? "\t" : " ".repeat(indent);
  return text
    .split("\n")
    .map((l) => (l.startsWith(pad) ? l.slice(pad.length) : l))
    .join("\n");
}
