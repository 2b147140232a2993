/**
 * Validates a rendered Compose document against the Compose specification's own JSON schema, kept in the
 * repository (schemas/compose-spec.json, source in schemas/SOURCES.md) and bundled with the CLI: the build
 * reads nothing else, and needs nothing from the checkout it builds.
 */
import type { ErrorObject } from "ajv";
import type { Issue } from "../errors.ts";
// The schema as Ajv compiles it, compiled ahead of time (scripts/gen-compose-validator.ts): compiling it
// at each build cost more than the rest of the host layer.
import { validate } from "./compose-validator.js";

export const COMPOSE_SCHEMA_FILE = "schemas/compose-spec.json";

function describe(e: ErrorObject): string {
  if (e.keyword === "additionalProperties") return `unknown key '${String((e.params as { additionalProperty: string }).additionalProperty)}'`;
  if (e.keyword === "enum") return `${e.message ?? "must be one of the allowed values"}: ${(e.params as { allowedValues: unknown[] }).allowedValues.map(String).join(", ")}`;
  return e.message ?? e.keyword;
}

/** Every problem of the document, each named by its JSON path in the file. */
export function checkCompose(doc: unknown, file: string): Issue[] {
  const v = validate;
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
