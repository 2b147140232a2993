/**
 * Validates a rendered Compose document against the Compose specification's own JSON schema, kept in the
 * repository (schemas/compose-spec.json, source in schemas/SOURCES.md) and bundled with the CLI: the build
 * reads nothing else, and needs nothing from the checkout it builds.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import composeSpec from "../../schemas/compose-spec.json" with { type: "json" };
import type { Issue } from "../errors.ts";

export const COMPOSE_SCHEMA_FILE = "schemas/compose-spec.json";

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  let v = compiled;
  if (!v) {
    // The schema names its draft without the trailing `#`, which Ajv does not know as a meta-schema; it
    // is plain draft-07, so it is compiled without checking it against a meta-schema. Formats such as
    // `duration` are Compose's own and are checked by the patterns beside them.
    const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false, validateFormats: false, logger: false });
    v = ajv.compile(composeSpec as object);
    compiled = v;
  }
  return v;
}

function describe(e: ErrorObject): string {
  if (e.keyword === "additionalProperties") return `unknown key '${String((e.params as { additionalProperty: string }).additionalProperty)}'`;
  if (e.keyword === "enum") return `${e.message ?? "must be one of the allowed values"}: ${(e.params as { allowedValues: unknown[] }).allowedValues.map(String).join(", ")}`;
  return e.message ?? e.keyword;
}

/** Every problem of the document, each named by its JSON path in the file. */
export function checkCompose(doc: unknown, file: string): Issue[] {
  const v = validator();
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
