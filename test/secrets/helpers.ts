/** Helpers for the secrets tests: shared fixtures, throw-away workspaces and a CLI runner. */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { newIdentity } from "../../src/secrets/age.ts";
import { parseIdentities } from "../../src/secrets/keys.ts";
import { keyRingOf } from "../../src/secrets/sops.ts";
import type { KeyRing } from "../../src/secrets/keys.ts";
import { FIXTURES, REPO } from "../helpers.ts";

export { REPO };
/** Real sops-made files and their published TEST-ONLY keys (test/fixtures/sops/SOURCES.md). */
export const SOPS_FIXTURES = join(FIXTURES, "sops");
/** The published test-only key the example secrets are encrypted to. */
export const EXAMPLE_KEY_FILE = join(SOPS_FIXTURES, "sops-age", "key.txt");


/** A real tool on PATH: skip outside CI when missing (scripts/ensure-tools.sh installs it), fail in CI. */
export function needTool(t: TestContext, tool: string): boolean {
  if (spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0) return true;
  const reason = `${tool} not installed (run: bash scripts/ensure-tools.sh)`;
  if (process.env.CI === "true") throw new Error(`${reason}; CI must have it`);
  console.log(`SKIP: ${reason}`);
  t.skip(reason);
  return false;
}

export function tempDir(prefix = "homelab-secrets-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function fixtureKeys(keyFile: string): Promise<KeyRing> {
  return keyRingOf(parseIdentities(readFileSync(join(SOPS_FIXTURES, keyFile), "utf8"), keyFile), keyFile);
}

/** A fresh identity written to a key file, as an operator would keep it. */
export async function newKeyFile(dir: string, name = "key.txt"): Promise<{ path: string; identity: string; recipient: string; keys: KeyRing }> {
  const { identity, recipient } = await newIdentity();
  const path = join(dir, name);
  writeFileSync(path, `# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
  return { path, identity, recipient, keys: await keyRingOf([identity], path) };
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** An environment with no ambient keys: only what the test passes counts. */
export function isolatedEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, ".config") };
  for (const k of ["SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY_CMD", "EDITOR", "VISUAL"]) delete env[k];
  return { ...env, ...extra };
}

/** Runs `node bin/homelab.mjs secrets …` in `cwd`. */
export function secretsCli(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; input?: string }): CliResult {
  const res = spawnSync(process.execPath, [join(REPO, "bin", "homelab.mjs"), "secrets", ...args], {
    cwd: opts.cwd,
    env: opts.env,
    input: opts.input ?? "",
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

/** Same, asynchronously, for tests that signal the process while it runs. */
export function secretsCliAsync(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): { pid: number; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [join(REPO, "bin", "homelab.mjs"), "secrets", ...args], { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on("exit", (code, signal) => resolve({ code: code ?? (signal ? -1 : -1), stdout, stderr })));
  return { pid: child.pid!, done };
}

/** A throw-away repository with the project's own .sops.yaml rules for a fresh key kept outside it. */
export interface SopsWorkspace {
  readonly dir: string;
  readonly home: string;
  readonly key: Awaited<ReturnType<typeof newKeyFile>>;
  readonly env: NodeJS.ProcessEnv;
  run(args: string[], opts?: { input?: string; env?: Record<string, string> }): CliResult;
}

/** Runs `fn` in a fresh SopsWorkspace and removes it afterwards, whatever happens. */
export async function withSopsWorkspace(fn: (ws: SopsWorkspace) => Promise<void> | void): Promise<void> {
  const repo = tempDir("homelab-secrets-ws-");
  const home = tempDir("homelab-secrets-home-");
  try {
    const key = await newKeyFile(home.dir);
    const env = isolatedEnv(home.dir, { SOPS_AGE_KEY_FILE: key.path });
    writeFileSync(
      join(repo.dir, ".sops.yaml"),
      `creation_rules:\n  - path_regex: (^|/)secrets/.+\\.sops\\.ya?ml$\n    encrypted_regex: ^(data|stringData)$\n    age: ${key.recipient}\n  - path_regex: \\.sops\\.(ya?ml|json|env)$\n    age: ${key.recipient}\n`,
    );
    const run: SopsWorkspace["run"] = (args, opts = {}) => secretsCli(args, { cwd: repo.dir, env: { ...env, ...opts.env }, input: opts.input ?? "" });
    await fn({ dir: repo.dir, home: home.dir, key, env, run });
  } finally {
    repo.cleanup();
    home.cleanup();
  }
}
