/** Shared test helpers: the default config, the test data in the repository, and a CLI runner. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import defaultInput from "../homelab.config.ts";
import { parseConfig, loadVersions } from "../src/config/load.ts";
import type { HomelabConfig, HomelabInput, Versions } from "../src/config/schema.ts";
import { UserError } from "../src/errors.ts";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Upstream test data copied into the repository (test/fixtures/README.md names the sources). */
export const FIXTURES = join(REPO, "test", "fixtures");
/** The committed chart lock: one folder per pinned chart with its Chart.yaml, values.yaml, values.schema.json. */
export const CHARTS = join(REPO, "charts");

/**
 * A scratch project for a real build in its own folder: what the build reads besides the config (the pinned
 * versions, the sops rules and example secrets, the chart lock, the Compose schema, the runbooks every alert
 * links to) copied from this checkout, and `homelab.config.ts` holding `input` when one is given.
 */
export function scratchProject(prefix: string, input?: HomelabInput): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const f of ["versions.yaml", ".sops.yaml"]) cpSync(join(REPO, f), join(dir, f));
  for (const d of ["secrets", "charts", "schemas", "docs/runbooks"]) cpSync(join(REPO, d), join(dir, d), { recursive: true });
  writeFileSync(join(dir, "package.json"), `{ "type": "module" }\n`);
  if (input) writeFileSync(join(dir, "homelab.config.ts"), `export default ${JSON.stringify(input)};\n`);
  return dir;
}

export function defaultInputCopy(): HomelabInput {
  return structuredClone(defaultInput);
}

export function config(patch: Partial<HomelabInput> = {}): HomelabConfig {
  return parseConfig({ ...defaultInputCopy(), ...patch });
}

export function versions(): Versions {
  return loadVersions(join(REPO, "versions.yaml"));
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function homelab(args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string } = {}): CliResult {
  const res = spawnSync(process.execPath, [join(REPO, "bin", "homelab.mjs"), ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, ...opts.env },
    input: opts.input ?? "",
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

/** The UserError a promise rejects with; fails the test when it resolves or rejects with anything else. */
export async function rejection(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected a rejection");
}
