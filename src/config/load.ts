import { readFileSync, existsSync } from "node:fs";
import { relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { z } from "zod";
import { UserError } from "../errors.ts";
import { parseYamlFile } from "../model/yaml-aliases.ts";
import { homelabSchema, versionsSchema, type HomelabConfig, type Versions } from "./schema.ts";

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

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")}`;
  return issue.message;
}

/** Validates a raw config object; throws ConfigError listing every problem. */
export function parseConfig(raw: unknown, source = "homelab config"): HomelabConfig {
  const res = homelabSchema.safeParse(raw);
  if (res.success) return res.data;
  throw new ConfigError(
    source,
    res.error.issues.map((i) => ({ path: keyPath(i.path), message: describe(i) })),
  );
}

export function parseVersions(raw: unknown, source = "versions.yaml"): Versions {
  const res = versionsSchema.safeParse(raw);
  if (res.success) return res.data;
  throw new ConfigError(source, res.error.issues.map((i) => ({ path: keyPath(i.path), message: describe(i) })));
}

/** Imports `homelab.config.ts` (its default export) and validates it. */
export async function loadConfig(path = "homelab.config.ts"): Promise<HomelabConfig> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new UserError(`config file not found: ${path}`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(abs).href)) as { default?: unknown };
  } catch (err) {
    throw new UserError(`could not load ${path}: ${(err as Error).message}`);
  }
  if (mod.default === undefined) throw new UserError(`${path} has no default export; write \`export default defineHomelab({...})\``);
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
