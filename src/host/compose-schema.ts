/**
 * Validates a rendered Compose document against the Compose specification's own JSON schema, kept in the
 * repository (schemas/compose-spec.json, source in schemas/SOURCES.md): the build reads nothing else.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { Issue } from "../errors.ts";

export const COMPOSE_SCHEMA_FILE = "schemas/compose-spec.json";

const compiled = new Map<string, ValidateFunction>();

function validator(root: string): ValidateFunction {
  const file = join(root, COMPOSE_SCHEMA_FILE);
  let v = compiled.get(file);
  if (!v) {
    // The schema names its draft without the trailing `#`, which Ajv does not know as a meta-schema; it
    // is plain draft-07, so it is compiled without checking it against a meta-schema. Formats such as
    // `duration` are Compose's own and are checked by the patterns beside them.
    const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false, validateFormats: false, logger: false });
    v = ajv.compile(JSON.parse(readFileSync(file, "utf8")) as object);
    compiled.set(file, v);
  }
  return v;
}

function describe(e: ErrorObject): string {
  if (e.keyword === "additionalProperties") return `unknown key '${String((e.params as { additionalProperty: string }).additionalProperty)}'`;
  if (e.keyword === "enum") return `${e.message ?? "must be one of the allowed values"}: ${(e.params as { allowedValues: unknown[] }).allowedValues.map(String).join(", ")}`;
  return e.message ?? e.keyword;
}

/** Every problem of the document, each named by its JSON path in the file. */
export function checkCompose(doc: unknown, file: string, root: string): Issue[] {
  const v = validator(root);
  if (v(doc)) return [];
  const seen = new Set<string>();
  const out: Issue[] = [];
  // oneOf/anyOf branches repeat the same finding from several angles: keep the first of each place + text.
  for (const e of v.errors ?? []) {
    if (e.keyword === "oneOf" || e.keyword === "anyOf" || e.keyword === "if") continue;
    const message = describe(e);
    const key = `${e.instancePath}\0${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ file, subject: "Compose stack", path: e.instancePath || "", message, check: "compose-schema" });
  }
  return out;
}
