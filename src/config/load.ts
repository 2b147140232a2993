import { readFileSync, existsSync } from "node:fs";
import { relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { z } from "zod";
import { UserError } from "../errors.ts";
import { parseYamlFile } from "../model/yaml-aliases.ts";
import { closest } from "../suggest.ts";
import { homelabSchema, versionsSchema, type HomelabConfig, type Versions } from "./schema.ts";
import { importConfigModule } from "./ts-loader.ts";

/** A config that failed validation: every problem, each with its key path. */
export class ConfigError extends UserError {
  constructor(
    readonly source: string,
    readonly problems: readonly { path: string; message: string }[],
  ) {
    super(`${source} is invalid (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** `apps[0].resources.limits.memory` from zod's path array. */
export function keyPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || "(root)";
}

export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * zod's issues in the operator's words. Library texts ("Invalid input", "received undefined", "Invalid
 * key in record") never reach the user: each code gets a sentence saying what is wrong, and a key that
 * is unknown but close to a missing one is reported once, as a typo.
 */
export function problemsOf(issues: readonly z.core.$ZodIssue[], raw: unknown, schema: z.ZodType): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  // `domian` instead of `domain`: one problem, not "unknown key" plus "domain is missing".
  const typos = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== "unrecognized_keys") continue;
    const known = keysAt(schema, issue.path);
    for (const key of issue.keys) {
      const guess = closest(key, known.filter((k) => !issue.keys.includes(k)));
      if (guess && valueAt(raw, [...issue.path, guess]) === undefined) typos.add(keyPath([...issue.path, guess]));
      const hint = guess ? ` — did you mean '${guess}'?` : known.length ? ` (keys here: ${known.join(", ")})` : "";
      out.push({ path: keyPath(issue.path), message: `unknown key '${key}'${hint}` });
    }
  }
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") continue;
    const path = keyPath(issue.path);
    if (typos.has(path) && issue.code === "invalid_type" && valueAt(raw, issue.path) === undefined) continue;
    out.push({ path, message: plainMessage(issue, valueAt(raw, issue.path)) });
  }
  return out;
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list [...]",
  object: "an object {...}",
  record: "an object {...}",
  date: "a date",
  bigint: "a number",
};

function typeName(t: string): string {
  return TYPE_NAMES[t] ?? t;
}

/** What the operator wrote, short: `the string "80"`, `a list`, `null`. */
function shown(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === "function") return "a function";
  if (typeof v === "object") return typeof (v as { then?: unknown }).then === "function" ? "a Promise" : "an object";
  return `the ${typeof v} ${String(v)}`;
}

function plainMessage(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case "invalid_type":
      return value === undefined ? `is missing: give ${typeName(issue.expected)}` : `must be ${typeName(issue.expected)}, not ${shown(value)}`;
    case "invalid_value": {
      const allowed = issue.values.map((v) => JSON.stringify(v));
      const guess = typeof value === "string" ? closest(value, issue.values.filter((v): v is string => typeof v === "string")) : undefined;
      return `must be ${allowed.length === 1 ? allowed[0] : `one of ${allowed.join(", ")}`}, not ${shown(value)}${guess ? ` — did you mean ${JSON.stringify(guess)}?` : ""}`;
    }
    case "too_small": {
      if (!isLibraryText(issue.message)) return issue.message;
      const n = Number(issue.minimum);
      if (issue.origin === "string") return n <= 1 ? "must not be empty" : `must be at least ${n} characters long`;
      if (issue.origin === "array" || issue.origin === "set") return `needs at least ${n} entr${n === 1 ? "y" : "ies"}`;
      return `must be ${issue.inclusive ? "at least" : "more than"} ${n}`;
    }
    case "too_big": {
      if (!isLibraryText(issue.message)) return issue.message;
      const n = Number(issue.maximum);
      if (issue.origin === "string") return `must be at most ${n} characters long`;
      if (issue.origin === "array" || issue.origin === "set") return `takes at most ${n} entr${n === 1 ? "y" : "ies"}`;
      return `must be ${issue.inclusive ? "at most" : "less than"} ${n}`;
    }
    case "invalid_key": {
      const inner = issue.issues.map((i) => plainMessage(i as z.core.$ZodIssue, value)).join("; ");
      return `key ${JSON.stringify(String(issue.path?.at(-1) ?? ""))} ${inner}`;
    }
    case "invalid_element":
      return `has an invalid entry: ${issue.issues.map((i) => plainMessage(i as z.core.$ZodIssue, undefined)).join("; ")}`;
    case "invalid_format":
      return isLibraryText(issue.message) ? `is not a valid ${issue.format}` : issue.message;
    case "not_multiple_of":
      return `must be a multiple of ${String(issue.divisor)}`;
    case "invalid_union":
      return isLibraryText(issue.message) ? `${shown(value)} is none of the accepted forms` : issue.message;
    default:
      return isLibraryText(issue.message) ? "is not valid here" : issue.message;
  }
}

/** zod's own English: never shown as it is. */
function isLibraryText(message: string): boolean {
  return /^(Invalid|Too (small|big)|Unrecognized)\b|expected .*, received /.test(message);
}

/** The value at a key path of what the operator wrote, if any. */
function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** The keys an object at this key path of the schema accepts. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: z.core.$ZodType | undefined = schema;
  const unwrap = (t: z.core.$ZodType | undefined): z.core.$ZodType | undefined => {
    for (let i = 0; t && i < 20; i++) {
      const def = t._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
      if (def.innerType) t = def.innerType;
      else if (def.type === "pipe" && def.in) t = def.in;
      else return t;
    }
    return t;
  };
  for (const p of path) {
    s = unwrap(s);
    const def = s?._zod.def as { type: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType; valueType?: z.core.$ZodType } | undefined;
    if (!def) return [];
    if (def.type === "object") s = def.shape?.[String(p)];
    else if (def.type === "array") s = def.element;
    else if (def.type === "record") s = def.valueType;
    else return [];
  }
  const def = unwrap(s)?._zod.def as { type: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

/** Validates a raw config object; throws ConfigError listing every problem. */
export function parseConfig(raw: unknown, source = "homelab config"): HomelabConfig {
  const res = homelabSchema.safeParse(raw);
  if (res.success) return res.data;
  throw new ConfigError(source, problemsOf(res.error.issues, raw, homelabSchema));
}

export function parseVersions(raw: unknown, source = "versions.yaml"): Versions {
  const res = versionsSchema.safeParse(raw);
  if (res.success) return res.data;
  throw new ConfigError(source, problemsOf(res.error.issues, raw, versionsSchema));
}

/** Imports `homelab.config.ts` (its default export) and validates it. */
export async function loadConfig(path = "homelab.config.ts"): Promise<HomelabConfig> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new UserError(`config file not found: ${path}`);
  let mod: { default?: unknown };
  // A config that calls process.exit() while loading would end the build with its exit code, as if
  // it had succeeded: it is refused instead.
  const exit = process.exit;
  process.exit = ((code?: number | string | null) => {
    throw new UserError(`${path} called process.exit(${code ?? ""}) while loading; a config only describes the homelab`);
  }) as typeof process.exit;
  try {
    mod = (await importConfigModule(abs)) as { default?: unknown };
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`could not load ${path}: ${(err as Error)?.message ?? String(err)}`);
  } finally {
    process.exit = exit;
  }
  try {
    return checkExport(mod, path, abs);
  } catch (err) {
    if (err instanceof UserError) throw err;
    // A getter that throws, a Proxy that refuses to be read: the config's own code failed.
    throw new UserError(`${path}: reading the config failed: ${(err as Error)?.message ?? String(err)}`);
  }
}

function checkExport(mod: { default?: unknown }, path: string, abs: string): HomelabConfig {
  const exported = mod.default;
  if (exported === undefined) throw new UserError(`${path} has no default export; write \`export default defineHomelab({...})\``);
  // A config built by a function or awaited elsewhere: say so, rather than "expected object, received function".
  if (typeof exported === "function" || (typeof exported === "object" && exported !== null && typeof (exported as { then?: unknown }).then === "function"))
    throw new UserError(
      `${path}: the default export is ${shown(exported)}, not the config object; write \`export default defineHomelab({...})\` with the object itself (compute values above it, with top-level await if you need to)`,
    );
  return parseConfig(mod.default, relative(process.cwd(), abs) || path);
}

export function loadVersions(path = "versions.yaml"): Versions {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UserError(`could not read ${path}: ${(err as Error).message}`);
  }
  return parseVersions(parseYamlFile(text, path), path);
}
