/**
 * The real `promtool`: `check rules` on every PrometheusRule's groups (the build) and `test rules` on the
 * components' alert unit tests (the test suite). promtool reads plain rule groups, not the CRD object, so
 * each group is written to a temporary folder first.
 */
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { toYaml } from "../render/render.ts";
import type { Issue } from "../errors.ts";
import { scratchBase } from "../secrets/files.ts";
import type { PlatformContext } from "../platform/lib/context.ts";
import { promtoolTests, ruleGroup, type AlertGroup } from "../platform/lib/alerts.ts";

export interface ToolRun {
  readonly ok: boolean;
  readonly output: string;
}

let version: string | undefined;

/** Whether `promtool` is on PATH. */
export function promtoolAvailable(): boolean {
  const r = spawnSync("promtool", ["--version"], { encoding: "utf8" });
  if (r.status === 0) version = `${r.stdout}${r.stderr}`;
  return r.status === 0;
}

/**
 * Results promtool gave before, by the sha256 of its version and the exact files it read: promtool is
 * deterministic, so the same files give the same verdict. Only passes are kept; a failure runs (and is
 * reported) again every time. The build keeps them beside its own record (node_modules/.cache/homelab/),
 * so a rebuild re-runs promtool only for the groups that changed; tests that call promtool directly pass
 * no cache and always run it.
 */
export interface PromtoolCache {
  readonly dir: string;
}

function cacheKey(kind: string, texts: readonly string[]): string | undefined {
  if (version === undefined && !promtoolAvailable()) return undefined;
  const h = createHash("sha256").update(`${kind}\u0000${version}`);
  for (const t of texts) h.update("\u0000").update(t);
  return h.digest("hex");
}

function cachedPass(cache: PromtoolCache | undefined, key: string | undefined): boolean {
  return cache !== undefined && key !== undefined && existsSync(join(cache.dir, key));
}

function recordPass(cache: PromtoolCache | undefined, key: string | undefined): void {
  if (cache === undefined || key === undefined) return;
  try {
    mkdirSync(cache.dir, { recursive: true });
    writeFileSync(join(cache.dir, key), "");
  } catch {
    // A read-only checkout only loses the shortcut.
  }
}

async function inTemp<T>(fn: (dir: string) => Promise<T>, base = tmpdir()): Promise<T> {
  const dir = mkdtempSync(join(base, "homelab-promtool-"));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Asynchronous, so the build's rule check and unit tests run side by side (promtool starts slowly). */
function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    execFile("promtool", args, { cwd, env, encoding: "utf8", timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      if (err && typeof code !== "number") reject(err);
      else resolve({ ok: !err, output: `${stdout}${stderr}`.trim() });
    });
  });
}

/** A group's rule file as promtool reads it; written like the rendered tree (the same writer, the same quoting). */
function rulesText(ctx: PlatformContext, g: AlertGroup): string {
  return toYaml({ groups: [ruleGroup(ctx, g)] });
}

/** `promtool check rules` on every group in one run; promtool names the failing `<group>.rules.yaml`. */
export async function promtoolCheckRules(ctx: PlatformContext, groups: readonly AlertGroup[], cache?: PromtoolCache): Promise<Issue[]> {
  const texts = groups.map((g) => ({ g, file: `${g.name}.rules.yaml`, text: rulesText(ctx, g) }));
  const todo = texts.map((t) => ({ ...t, key: cache && cacheKey("check rules", [t.file, t.text]) })).filter((t) => !cachedPass(cache, t.key));
  if (!todo.length) return [];
  return inTemp(async (dir) => {
    for (const t of todo) writeFileSync(join(dir, t.file), t.text);
    const r = await run(["check", "rules", ...todo.map((t) => t.file)], dir);
    if (r.ok) for (const t of todo) recordPass(cache, t.key);
    return r.ok ? [] : [{ subject: `PrometheusRules ${todo.map((t) => t.g.name).join(", ")}`, path: "/spec", message: `promtool check rules failed: ${r.output}`, check: "promtool" }];
  });
}

/**
 * `promtool test rules` over every group's unit tests. Each test case gets its own TSDB in promtool's
 * temporary directory, synced to disk as it is created: on a disk that waiting, not the evaluation, was
 * most of the time (300 apps: 21 s, 8 s on tmpfs). So TMPDIR points at a RAM-backed folder where there is
 * one, and the files are shared out to two promtools per core; every test still runs, and the outputs are
 * joined in the groups' order.
 */
export function promtoolTestRules(ctx: PlatformContext, groups: readonly AlertGroup[], cache?: PromtoolCache): Promise<ToolRun> {
  return inTemp(async (dir) => {
    const tests: string[] = [];
    const keys = new Map<string, string | undefined>();
    /** What promtool prints for a file whose tests all pass (its output for a cached pass). */
    const passed = (test: string) => `Unit Testing:  ${test}\n  SUCCESS`;
    const outputs = new Map<string, string>();
    for (const g of groups) {
      const rules = `${g.name}.rules.yaml`;
      const ruleText = rulesText(ctx, g);
      const test = `${g.name}.test.yaml`;
      const testText = toYaml(promtoolTests(ctx, g, rules));
      const key = cache && cacheKey("test rules", [rules, ruleText, test, testText]);
      if (cachedPass(cache, key)) {
        outputs.set(test, passed(test));
        continue;
      }
      writeFileSync(join(dir, rules), ruleText);
      writeFileSync(join(dir, test), testText);
      tests.push(test);
      keys.set(test, key);
    }
    // Two per core: a promtool test run waits about half its time (0.44 s of CPU in 0.88 s per 100 cases,
    // each case opening and closing its own TSDB), so a second process per core fills the gaps.
    const workers = Math.max(1, Math.min(2 * availableParallelism(), Math.ceil(tests.length / 16)));
    const size = Math.ceil(tests.length / workers);
    const chunks = Array.from({ length: workers }, (_, i) => tests.slice(i * size, (i + 1) * size)).filter((c) => c.length);
    const env = { ...process.env, TMPDIR: join(dir, "tsdb") };
    if (chunks.length) mkdirSync(env.TMPDIR);
    const runs = await Promise.all(chunks.map((chunk) => run(["test", "rules", ...chunk], dir, env)));
    runs.forEach((r, i) => {
      if (r.ok) for (const t of chunks[i]!) recordPass(cache, keys.get(t));
      // A chunk's output is kept whole, at its first file; cached files print their own pass.
      outputs.set(chunks[i]![0]!, r.output);
      for (const t of chunks[i]!.slice(1)) outputs.set(t, "");
    });
    const order = groups.map((g) => `${g.name}.test.yaml`);
    return { ok: runs.every((r) => r.ok), output: order.map((t) => outputs.get(t) ?? "").filter(Boolean).join("\n") };
  }, scratchBase());
}
