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
function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<ToolRun & { stdout: string }> {
  return new Promise((resolve, reject) => {
    execFile("promtool", args, { cwd, env, encoding: "utf8", timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      if (err && typeof code !== "number") reject(err);
      else resolve({ ok: !err, output: `${stdout}${stderr}`.trim(), stdout });
    });
  });
}

/** Rule files already written, per platform and group: the rule check and the unit tests read the same file. */
const RULE_TEXTS = new WeakMap<PlatformContext, WeakMap<AlertGroup, string>>();

/** A group's rule file as promtool reads it; written like the rendered tree (the same writer, the same quoting). */
function rulesText(ctx: PlatformContext, g: AlertGroup): string {
  let texts = RULE_TEXTS.get(ctx);
  if (!texts) RULE_TEXTS.set(ctx, (texts = new WeakMap()));
  let text = texts.get(g);
  if (text === undefined) texts.set(g, (text = toYaml({ groups: [ruleGroup(ctx, g)] })));
  return text;
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
 * one, and the files are shared out to two promtools per core.
 *
 * Every app's group is an instance of the same template, so most cases repeat across groups with only
 * their selectors and labels changed: those are merged into one case (see `mergeCases`), one TSDB instead
 * of one per app, with the same assertions. When a run with merged cases fails, the groups it covered are
 * run again one by one, so the failure is reported under its own group's file as before. Outputs are
 * joined in the groups' order; the pass cache stays per group.
 */
export function promtoolTestRules(ctx: PlatformContext, groups: readonly AlertGroup[], cache?: PromtoolCache): Promise<ToolRun> {
  return inTemp(async (dir) => {
    const todo: GroupTest[] = [];
    /** What promtool prints for a file whose tests all pass (its output for a cached or merged pass). */
    const passed = (test: string) => `Unit Testing:  ${test}\n  SUCCESS`;
    const outputs = new Map<string, string>();
    for (const g of groups) {
      const rules = `${g.name}.rules.yaml`;
      const ruleText = rulesText(ctx, g);
      const test = `${g.name}.test.yaml`;
      const file = promtoolTests(ctx, g, rules) as unknown as PromtoolTestFile;
      const testText = toYaml(file);
      const key = cache && cacheKey("test rules", [rules, ruleText, test, testText]);
      if (cachedPass(cache, key)) {
        outputs.set(test, passed(test));
        continue;
      }
      writeFileSync(join(dir, rules), ruleText);
      todo.push({ test, testText, file, key });
    }
    // One Go thread per promtool: the build's own process needs the other core meanwhile, and a
    // single-threaded promtool spent ~25% less CPU on the same tests (no parallel GC workers and idle
    // threads spinning: 1000 apps' merged cases 8.3 s of CPU, 6.1 s with GOMAXPROCS=1). An operator's own
    // GOMAXPROCS is kept.
    const env = { ...process.env, TMPDIR: join(dir, "tsdb"), GOMAXPROCS: process.env.GOMAXPROCS ?? "1" };
    if (todo.length) mkdirSync(env.TMPDIR);
    // What a file costs promtool: every case evaluates all the rule files it loads at every step.
    const weights = new Map<string, number>();
    const runFiles = (files: readonly string[]) => runShared(files, dir, env, (f) => weights.get(f) ?? 1);

    const merged = mergeCases(todo);
    // Each group's file keeps the cases nothing was merged with; a group with none left has no file.
    const files: { name: string; tests: readonly GroupTest[] }[] = [];
    for (const t of todo) {
      const rest = merged.rest.get(t.test)!;
      if (!rest.length) continue;
      writeFileSync(join(dir, t.test), rest.length === t.file.tests.length ? t.testText : toYaml({ ...t.file, tests: rest }));
      files.push({ name: t.test, tests: [t] });
      weights.set(t.test, t.file.rule_files.length * rest.length);
    }
    merged.files.forEach((m, i) => {
      const name = `Merged-${i}.test.yaml`; // group names are lower-case Kubernetes names: no clash
      writeFileSync(join(dir, name), toYaml(m.file));
      files.push({ name, tests: m.tests });
      weights.set(name, m.file.rule_files.length * m.file.tests.length);
    });
    const runs = await runFiles(files.map((f) => f.name));
    const failed = new Set<GroupTest>();
    for (const f of files) if (!runs.ok.has(f.name)) for (const t of f.tests) failed.add(t);
    for (const t of todo) if (!failed.has(t)) {
      recordPass(cache, t.key);
      outputs.set(t.test, passed(t.test));
    }
    let ok = true;
    if (failed.size) {
      // One by one, as the groups' own files: promtool then names the failing group and case.
      const again = todo.filter((t) => failed.has(t));
      for (const t of again) {
        writeFileSync(join(dir, t.test), t.testText);
        weights.set(t.test, t.file.rule_files.length * t.file.tests.length);
      }
      const rerun = await runFiles(again.map((t) => t.test));
      ok = rerun.all;
      for (const t of again) {
        if (rerun.ok.has(t.test)) recordPass(cache, t.key);
        outputs.set(t.test, rerun.outputs.get(t.test) ?? "");
      }
    }
    const order = groups.map((g) => `${g.name}.test.yaml`);
    return { ok, output: order.map((t) => outputs.get(t) ?? "").filter(Boolean).join("\n") };
  }, scratchBase());
}

/** One group's unit-test file as `promtoolTests` builds it, and its pass-cache key. */
interface GroupTest {
  readonly test: string;
  readonly testText: string;
  readonly file: PromtoolTestFile;
  readonly key: string | undefined;
}

export interface PromtoolTestFile {
  readonly rule_files: readonly string[];
  readonly evaluation_interval: string;
  readonly tests: readonly PromtoolCase[];
}

export interface PromtoolCase {
  readonly name: string;
  readonly interval: string;
  readonly input_series: readonly { readonly series: string; readonly values: string }[];
  readonly alert_rule_test: readonly { readonly eval_time: string; readonly alertname: string; readonly exp_alerts: readonly unknown[] }[];
}

/**
 * Cases with the same name (kind and alert), interval, evaluation interval, alert and evaluation time in
 * several groups become one case: the union of their input series and of their expected alerts (an empty
 * "stays quiet" list stays empty), in a file that loads all those groups' rules. Every rule sees every
 * series, so a rule that selected another group's series would raise an alert nobody expects and fail.
 * A case is only added where none of its series texts is already present: the same series twice (with
 * other values, or the same ones counted twice) would change what the rules see. Cases whose key no
 * other group shares stay in their group's file (`rest`).
 */
export function mergeCases<T extends { readonly test: string; readonly file: PromtoolTestFile }>(todo: readonly T[]): {
  files: { file: PromtoolTestFile; tests: T[] }[];
  rest: Map<string, PromtoolCase[]>;
} {
  type Bucket = { cases: PromtoolCase[]; owners: T[]; series: Set<string>; rules: string[] };
  const buckets = new Map<string, Bucket[]>();
  const placed = new Map<PromtoolCase, Bucket>();
  for (const t of todo) {
    for (const c of t.file.tests) {
      if (Object.keys(c).some((k) => !["name", "interval", "input_series", "alert_rule_test"].includes(k)) || c.alert_rule_test.length !== 1) continue;
      const a = c.alert_rule_test[0]!;
      const key = JSON.stringify([c.name, c.interval, t.file.evaluation_interval, a.alertname, a.eval_time]);
      const texts = c.input_series.map((s) => s.series);
      if (new Set(texts).size !== texts.length) continue;
      const list = buckets.get(key) ?? [];
      buckets.set(key, list);
      let b = list.find((x) => !x.owners.includes(t) && texts.every((s) => !x.series.has(s)));
      if (!b) list.push((b = { cases: [], owners: [], series: new Set(), rules: [] }));
      b.cases.push(c);
      b.owners.push(t);
      for (const s of texts) b.series.add(s);
      b.rules.push(...t.file.rule_files);
      placed.set(c, b);
    }
  }
  const shared = (c: PromtoolCase) => (placed.get(c)?.cases.length ?? 0) > 1;
  const rest = new Map(todo.map((t) => [t.test, t.file.tests.filter((c) => !shared(c))]));
  const files = [...buckets.values()].flat().filter((b) => b.cases.length > 1).map((b) => {
    const first = b.cases[0]!;
    const a = first.alert_rule_test[0]!;
    const file: PromtoolTestFile = {
      rule_files: [...new Set(b.rules)],
      evaluation_interval: b.owners[0]!.file.evaluation_interval,
      tests: [{
        name: first.name,
        interval: first.interval,
        input_series: b.cases.flatMap((c) => c.input_series),
        alert_rule_test: [{ eval_time: a.eval_time, alertname: a.alertname, exp_alerts: b.cases.flatMap((c) => c.alert_rule_test[0]!.exp_alerts) }],
      }],
    };
    return { file, tests: [...new Set(b.owners)] };
  });
  return { files, rest };
}

/**
 * Runs `promtool test rules` over the files shared out to two processes per core, and tells which files
 * passed: promtool prints "Unit Testing:  <file>" and, when all its cases pass, "SUCCESS" on standard
 * output (failures go to standard error). A run's output is kept whole, at its first file, as before.
 * Files are shared out by their cost (`weight`), heaviest first to the least loaded run, each run keeping
 * the files' order: 1000 apps' two merged cases are most of the work and go to two runs, not one.
 */
async function runShared(files: readonly string[], dir: string, env: NodeJS.ProcessEnv, weight: (file: string) => number = () => 1): Promise<{ all: boolean; ok: Set<string>; outputs: Map<string, string> }> {
  // Two per core: a promtool test run waits about half its time (0.44 s of CPU in 0.88 s per 100 cases,
  // each case opening and closing its own TSDB), so a second process per core fills the gaps. At least two
  // where there are two files: a single promtool on one thread would leave the rest of the machine idle.
  const workers = Math.max(1, Math.min(2 * availableParallelism(), files.length, Math.max(2, Math.ceil(files.length / 16))));
  const load = new Array<number>(workers).fill(0);
  const share = new Map<string, number>();
  for (const f of [...files].sort((a, b) => weight(b) - weight(a))) {
    const i = load.indexOf(Math.min(...load));
    share.set(f, i);
    load[i]! += weight(f);
  }
  const chunks = Array.from({ length: workers }, (_, i) => files.filter((f) => share.get(f) === i)).filter((c) => c.length);
  const runs = await Promise.all(chunks.map((chunk) => run(["test", "rules", ...chunk], dir, env)));
  const ok = new Set<string>();
  const outputs = new Map<string, string>();
  runs.forEach((r, i) => {
    const chunk = chunks[i]!;
    const passed = r.ok ? new Set(chunk) : successes(r.stdout);
    for (const f of chunk) if (passed.has(f)) ok.add(f);
    outputs.set(chunk[0]!, r.output);
    for (const f of chunk.slice(1)) outputs.set(f, "");
  });
  return { all: runs.every((r) => r.ok), ok, outputs };
}

/** The files promtool's standard output reports as passed: "Unit Testing:  <file>" followed by "SUCCESS". */
function successes(stdout: string): Set<string> {
  const out = new Set<string>();
  const lines = stdout.split("\n");
  lines.forEach((line, i) => {
    const m = /^Unit Testing:\s+(\S+)\s*$/.exec(line);
    if (m && lines[i + 1]?.trim() === "SUCCESS") out.add(m[1]!);
  });
  return out;
}
