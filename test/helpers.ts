/** Shared test helpers: the default config, the shared reference data beside the repo, and a CLI runner. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestContext } from "node:test";
import defaultInput from "../homelab.config.ts";
import { parseConfig, loadVersions } from "../src/config/load.ts";
import type { HomelabConfig, HomelabInput, Versions } from "../src/config/schema.ts";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const SHARED = resolve(REPO, "..", "shared");
export const SHARED_CHARTS = join(SHARED, "charts");

export function defaultInputCopy(): HomelabInput {
  return structuredClone(defaultInput);
}

export function config(patch: Partial<HomelabInput> = {}): HomelabConfig {
  return parseConfig({ ...defaultInputCopy(), ...patch });
}

export function versions(): Versions {
  return loadVersions(join(REPO, "versions.yaml"));
}

/** Reference data beside the repo: skip with a printed reason outside CI, fail in CI. */
export function needShared(t: TestContext, path = SHARED): boolean {
  if (existsSync(path)) return true;
  const reason = `reference data not found at ${path}`;
  if (process.env.CI === "true") throw new Error(`${reason}; CI must have it`);
  console.log(`SKIP: ${reason}`);
  t.skip(reason);
  return false;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function homelab(args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string } = {}): CliResult {
  const res = spawnSync(process.execPath, [join(REPO, "bin", "homelab.mjs"), ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, HOMELAB_CHART_CACHE: SHARED_CHARTS, ...opts.env },
    input: opts.input ?? "",
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}
