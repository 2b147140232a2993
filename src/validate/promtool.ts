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
import { parser } from "@prometheus-io/lezer-promql";
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

/** `promtool test rules`' outcome, and how many groups it ran, found in the cache or gave a template's verdict. */
export interface TestRulesRun extends ToolRun {
  readonly groups: { readonly total: number; readonly ran: number; readonly cached: number; readonly shared: number };
}

/**
 * `promtool test rules` over every group's unit tests. Each test case gets its own TSDB in promtool's
 * temporary directory, synced to disk as it is created: on a disk that waiting, not the evaluation, was
 * most of the time (300 apps: 21 s, 8 s on tmpfs). So TMPDIR points at a RAM-backed folder where there is
 * one, and the files are shared out to two promtools per core.
 *
 * Every app's group is an instance of the same template: groups that are the same template with another
 * name (`templateClass`) run one representative, and the others take its verdict; a representative that
 * fails makes every member of its class run itself. Of the groups that do run, cases that repeat across
 * groups with only their selectors and labels changed are merged into one case (see `mergeCases`), one
 * TSDB instead of one per group, with the same assertions. When a run with merged cases fails, the groups
 * it covered are run again one by one, so the failure is reported under its own group's file as before.
 * Outputs are joined in the groups' order; the pass cache keeps only what promtool really ran.
 */
export function promtoolTestRules(ctx: PlatformContext, groups: readonly AlertGroup[], cache?: PromtoolCache): Promise<TestRulesRun> {
  return inTemp(async (dir) => {
    /** What promtool prints for a file whose tests all pass (its output for a cached, merged or shared pass). */
    const passed = (test: string) => `Unit Testing:  ${test}\n  SUCCESS`;
    const outputs = new Map<string, string>();
    const everyGroup = process.env.HOMELAB_PROMTOOL_EVERY_GROUP === "1";
    const classes = new Map<string, GroupTest[]>();
    const todo: GroupTest[] = [];
    let cached = 0;
    for (const g of groups) {
      const rules = `${g.name}.rules.yaml`;
      const test = `${g.name}.test.yaml`;
      const file = promtoolTests(ctx, g, rules) as unknown as PromtoolTestFile;
      const cls = everyGroup ? undefined : templateClass(ctx, g, file);
      const members = cls === undefined ? undefined : classes.get(cls);
      // A member's files are written and keyed only if it has to run after all.
      const t: GroupTest = lazyGroupTest(ctx, g, test, rules, file, cache);
      if (members) {
        members.push(t);
        continue;
      }
      if (cls !== undefined) classes.set(cls, [t]);
      if (cachedPass(cache, t.key)) {
        cached++;
        outputs.set(test, passed(test));
        continue;
      }
      todo.push(t);
    }
    // One Go thread per promtool: the build's own process needs the other core meanwhile, and a
    // single-threaded promtool spent ~25% less CPU on the same tests (no parallel GC workers and idle
    // threads spinning: 1000 apps' merged cases 8.3 s of CPU, 6.1 s with GOMAXPROCS=1). An operator's own
    // GOMAXPROCS is kept.
    const env = { ...process.env, TMPDIR: join(dir, "tsdb"), GOMAXPROCS: process.env.GOMAXPROCS ?? "1" };
    mkdirSync(env.TMPDIR);
    let round = 0;
    const runGroups = (list: readonly GroupTest[]) => runTests(list, dir, env, `Merged-${round++}-`);

    const first = await runGroups(todo);
    let ok = first.ok;
    const failedFirst = new Set<GroupTest>();
    for (const t of todo) {
      if (first.passed.has(t)) recordPass(cache, t.key);
      else failedFirst.add(t);
      outputs.set(t.test, first.outputs.get(t) ?? passed(t.test));
    }
    // Members of a class whose representative passed (now or in the cache) pass; the others run themselves.
    // Members never ran in the first round (they are not in todo), so the two rounds ran disjoint groups.
    const again: GroupTest[] = [];
    let shared = 0;
    for (const [rep, ...members] of classes.values()) {
      const repPassed = !failedFirst.has(rep!);
      for (const m of members) {
        if (repPassed) {
          shared++;
          outputs.set(m.test, passed(m.test));
        } else again.push(m);
      }
    }
    if (again.length) {
      const second = await runGroups(again);
      ok &&= second.ok;
      for (const t of again) {
        if (second.passed.has(t)) recordPass(cache, t.key);
        outputs.set(t.test, second.outputs.get(t) ?? passed(t.test));
      }
    }
    const order = groups.map((g) => `${g.name}.test.yaml`);
    return {
      ok,
      output: order.map((t) => outputs.get(t) ?? "").filter(Boolean).join("\n"),
      groups: { total: groups.length, ran: todo.length + again.length, cached, shared },
    };
  }, scratchBase());
}

/** A group's test as promtool would run it; its YAML and cache key computed when first asked for. */
function lazyGroupTest(ctx: PlatformContext, g: AlertGroup, test: string, rules: string, file: PromtoolTestFile, cache: PromtoolCache | undefined): GroupTest {
  let testText: string | undefined;
  let key: string | undefined | null = null;
  return {
    test,
    rules,
    file,
    get ruleText() {
      return rulesText(ctx, g);
    },
    get testText() {
      return (testText ??= toYaml(file));
    },
    get key() {
      if (key === null) key = cache && cacheKey("test rules", [rules, this.ruleText, test, this.testText]);
      return key;
    },
  };
}

/**
 * Runs the groups' tests: cases several groups share merged (`mergeCases`), the rest in each group's own
 * file; the groups of a failed file again one by one, in their own files, so promtool names them.
 * `merged` prefixes the merged files' names (group names are lower-case Kubernetes names: no clash).
 */
async function runTests(todo: readonly GroupTest[], dir: string, env: NodeJS.ProcessEnv, merged: string): Promise<{ ok: boolean; passed: Set<GroupTest>; outputs: Map<GroupTest, string> }> {
  const passedSet = new Set<GroupTest>();
  const outputs = new Map<GroupTest, string>();
  if (!todo.length) return { ok: true, passed: passedSet, outputs };
  for (const t of todo) writeFileSync(join(dir, t.rules), t.ruleText);
  // What a file costs promtool: every case evaluates all the rule files it loads at every step.
  const weights = new Map<string, number>();
  const runFiles = (files: readonly string[]) => runShared(files, dir, env, (f) => weights.get(f) ?? 1);

  const m = mergeCases(todo);
  // Each group's file keeps the cases nothing was merged with; a group with none left has no file.
  const files: { name: string; tests: readonly GroupTest[] }[] = [];
  for (const t of todo) {
    const rest = m.rest.get(t.test)!;
    if (!rest.length) continue;
    writeFileSync(join(dir, t.test), rest.length === t.file.tests.length ? t.testText : toYaml({ ...t.file, tests: rest }));
    files.push({ name: t.test, tests: [t] });
    weights.set(t.test, t.file.rule_files.length * rest.length);
  }
  m.files.forEach((f, i) => {
    const name = `${merged}${i}.test.yaml`;
    writeFileSync(join(dir, name), toYaml(f.file));
    files.push({ name, tests: f.tests });
    weights.set(name, f.file.rule_files.length * f.file.tests.length);
  });
  const runs = await runFiles(files.map((f) => f.name));
  const failed = new Set<GroupTest>();
  for (const f of files) if (!runs.ok.has(f.name)) for (const t of f.tests) failed.add(t);
  for (const t of todo) if (!failed.has(t)) passedSet.add(t);
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
      if (rerun.ok.has(t.test)) passedSet.add(t);
      outputs.set(t, rerun.outputs.get(t.test) ?? "");
    }
  }
  return { ok, passed: passedSet, outputs };
}

/** One group's unit-test file as `promtoolTests` builds it, and its pass-cache key. */
interface GroupTest {
  readonly test: string;
  readonly rules: string;
  readonly ruleText: string;
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

/**
 * Alert groups that are one template instantiated with another name share promtool's verdict: 1000 apps'
 * groups are the same rules with the app's name in their selectors, labels and texts, and promtool's cost
 * is per rule evaluated (~250 µs each at every step of a case), not per series, so only evaluating fewer
 * rules makes a cold build faster. One representative per class runs; the others take its verdict; when it
 * fails, every member runs itself, so each failing group is still reported under its own file.
 *
 * The name n is the group's `component` (an app's name), and only where it is a DNS label (`[a-z0-9-]`,
 * starting and ending alphanumeric) holding a letter that none of Prometheus' own printed texts can hold
 * (numbers like "1e+06", "NaN", "+Inf", "<no value>": one of b c d g h i j k m p q r s t w x y z).
 * A group is *eligible* when n occurs only in: the group's name; rule label and annotation values (not
 * keys), outside their template actions; in a rule `expr` or a test's input `series` only inside a string
 * literal without escapes that is the value of an `=` or `!=` label matcher; `exp_labels` and
 * `exp_annotations` values; `rule_files` entries. Further, every expression and series may use only the
 * matchers `=` and `!=`, must name its metric (never `ALERTS`/`ALERTS_FOR_STATE`; no `__name__` matcher),
 * and may call only the functions and aggregations of CLASS_FUNCTIONS/CLASS_AGGREGATIONS: none of them
 * reads a label value other than for equality (no regular expressions, `label_replace`, `label_join`,
 * `histogram_quantile` reading `le`, `count_values`, `topk`/`bottomk`/`sort*` ordering by labels), and
 * none adds up floats across series (`sum`, `avg`: promtool adds series in an order that is not even the
 * same from one run to the next, and the rounding follows it). Every template action in a label or
 * annotation is one of `{{ $labels.x }}`, `{{ $value }}`, `{{ .Labels.x }}`, `{{ .Value }}` (no trim
 * markers), with no `[a-z0-9-]` character and no other action right beside it. The test file must have
 * the plain `alert_rule_test` shape that `promtoolTests` writes (only the keys `mergeCases` knows).
 *
 * The class key is the canonical JSON of (rule group, test file) with every occurrence of n written as a
 * placeholder P = "\u0000", which no eligible structure contains. Write R(s) for s with n replaced by P
 * and I(t) for t with P replaced by n; I(R(s)) = s for every string s of the group. Why equal keys give
 * equal verdicts, for groups A (name a) and B (name b):
 * 1. Strings at the same place in A and B have the same key form t, and are I_a(t) and I_b(t). Two strings
 *    of A are equal iff their key forms are (R_a and I_a undo each other), iff the strings of B at the same
 *    places are equal: the instantiation is injective on the strings present, both ways.
 * 2. A's and B's expressions are the same text outside those string literals, and inside, only runs of
 *    `[a-z0-9-]` without quotes or backslashes differ: Prometheus' lexer reads the same tokens from both
 *    (the argument of src/platform/lib/query-syntax.ts), so both parse to the same query with other strings.
 * 3. With the allowed constructs PromQL uses label values only to compare them for equality (matchers,
 *    vector matching, grouping) and copies them verbatim into results; sample values (so `$value`) do not
 *    depend on labels nor on the order of series (max, min, count, group, per-series functions). promtool
 *    compares expected and actual alerts as lists sorted by labels, i.e. as multisets. So A's and B's
 *    evaluations are the same, with every label value v of one standing for the other's I_b(R_a(v)).
 *    (Hashes of label sets, 64-bit xxhash, are assumed not to collide, as Prometheus itself does.)
 * 4. Template expansion concatenates text and printed values. The pieces meet at a character outside
 *    `[a-z0-9-]` (or an end), which n cannot span, so R of an expanded text is the concatenation of its
 *    pieces' key forms: text and label values have theirs, and printed numbers and "<no value>" hold no
 *    name (they are their own key form in A and B). So A's expanded text is I_a(G) and B's is I_b(G) for
 *    one G; A's expected text is I_a(E), B's I_b(E). If I_a(G) = I_a(E), then G = R_a(I_a(G)) = E and B's
 *    texts are equal too; and the other way round. Without the rule about neighbours, "q{{ $labels.x }}"
 *    with x = "r" prints "qr": the name of A = "qr", not of B = "zt", with the same key.
 * Hence promtool evaluates both groups' cases as the same computation with renamed strings and reaches the
 * same verdict. Anything this does not cover leaves the group out of the classes: it runs itself.
 * `HOMELAB_PROMTOOL_EVERY_GROUP=1` turns the classes off.
 */
export function templateClass(ctx: PlatformContext, g: AlertGroup, file: PromtoolTestFile): string | undefined {
  const n = g.component;
  if (!classableName(n)) return undefined;
  const rules = ruleGroup(ctx, g);
  const json = JSON.stringify([rules, file]);
  // A placeholder already there (or text that reads like one) keeps the group out.
  if (json.includes("\\u0000")) return undefined;
  // Without a backslash, the JSON text's strings are the values verbatim and n (no quote) occurs only inside
  // them, so replacing it in the text is replacing it in every value and key, as JSON.stringify writes it.
  const key = json.includes("\\") ? JSON.stringify([rules, file], (_k, v: unknown) => (typeof v === "string" ? v.split(n).join(PLACEHOLDER) : v)) : json.split(n).join("\\u0000");
  // Eligibility is decided by the key (every check below reads n's places, which the key keeps as
  // placeholders, and the text around them, which it keeps as is): a class is checked once.
  let ok = ELIGIBLE.get(key);
  if (ok === undefined) {
    ok =
      shapeOf(rules, { name: "free", rules: [{ alert: "none", expr: "expr", for: "none", labels: { "*": "template" }, annotations: { "*": "template" } }] }, n) &&
      shapeOf(
        file,
        {
          rule_files: ["free"],
          evaluation_interval: "none",
          tests: [{ name: "none", interval: "none", input_series: [{ series: "series", values: "none" }], alert_rule_test: [{ eval_time: "none", alertname: "none", exp_alerts: [{ exp_labels: { "*": "free" }, exp_annotations: { "*": "free" } }] }] }],
        },
        n,
      );
    if (ELIGIBLE.size < 10_000) ELIGIBLE.set(key, ok);
  }
  return ok ? key : undefined;
}

/** Eligibility by class key (see templateClass). */
const ELIGIBLE = new Map<string, boolean>();

const PLACEHOLDER = "\u0000";

/** A DNS label with a letter that no number, "NaN", "Inf" or "<no value>" holds (see templateClass). */
function classableName(n: string): boolean {
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n) && /[bcdghijkmpqrstwxyz]/.test(n);
}

/** What a position may hold: the name anywhere, never, in template text, or in a PromQL expression/series. */
type Slot = "free" | "none" | "template" | "expr" | "series";
type Shape = Slot | readonly [Shape] | { readonly [key: string]: Shape };

/** Whether `v` has exactly the shape (only the keys given; `"*"` any key) and the name only where allowed. */
function shapeOf(v: unknown, shape: Shape, n: string): boolean {
  if (typeof shape === "string") {
    if (typeof v !== "string" || v.includes(PLACEHOLDER)) return false;
    switch (shape) {
      case "free":
        return true;
      case "none":
        return !v.includes(n);
      case "template":
        return templateOk(v, n);
      case "expr":
      case "series":
        return promqlOk(v, n);
    }
  }
  if (Array.isArray(shape)) return Array.isArray(v) && v.every((x) => shapeOf(x, shape[0], n));
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const fields = shape as { readonly [key: string]: Shape };
  return Object.entries(v).every(([k, x]) => {
    const s = fields[k] ?? fields["*"];
    return s !== undefined && !k.includes(n) && !k.includes(PLACEHOLDER) && shapeOf(x, s, n);
  });
}

const WORD = /[a-z0-9-]/;
/** A printing action; no trim markers (`{{- ` would join the printed value to the text before it). */
const ACTION = /^\{\{\s*(?:\$labels\.[A-Za-z_][A-Za-z0-9_]*|\$value|\.Labels\.[A-Za-z_][A-Za-z0-9_]*|\.Value)\s*\}\}$/;

/** A label or annotation template: only printing actions, none touching a name character, n only in text. */
function templateOk(v: string, n: string): boolean {
  let i = 0;
  while (i < v.length) {
    const open = v.indexOf("{{", i);
    if (open < 0) break;
    const close = v.indexOf("}}", open + 2);
    if (close < 0) return false;
    const action = v.slice(open, close + 2);
    if (!ACTION.test(action)) return false;
    // Beside an action: an end of the text or a character no name holds (not another action).
    const before = v[open - 1];
    const after = v[close + 2];
    if ((before !== undefined && (WORD.test(before) || before === "}")) || (after !== undefined && (WORD.test(after) || after === "{"))) return false;
    // n contains no brace, so an occurrence is either inside an action or within the text between two.
    if (action.includes(n)) return false;
    i = close + 2;
  }
  return true;
}

/** Aggregations whose result does not depend on the order of their input series. */
const CLASS_AGGREGATIONS = new Set(["max", "min", "count", "group"]);
/** Functions that read no label value and compute each series on its own (or none). */
const CLASS_FUNCTIONS = new Set([
  "abs", "absent", "absent_over_time", "avg_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "count_over_time",
  "delta", "deriv", "exp", "floor", "idelta", "increase", "irate", "last_over_time", "ln", "log10", "log2", "max_over_time",
  "min_over_time", "predict_linear", "present_over_time", "quantile_over_time", "rate", "resets", "round", "scalar", "sgn", "sqrt",
  "stddev_over_time", "stdvar_over_time", "sum_over_time", "time", "timestamp", "vector",
]);

/** Verdicts by expression with the name replaced: the same for every name (see promqlOk). */
const EXPR_VERDICTS = new Map<string, boolean>();

/**
 * An expression or input series: parses, uses only the allowed constructs, and holds n only inside the
 * escape-free string literal of an `=`/`!=` matcher. A "yes" depends only on the text with n replaced (kept
 * in EXPR_VERDICTS): another name m with the same replaced text changes only runs of `[a-z0-9-]` inside
 * those strings, which the parser reads as the same tokens; m occurs where the placeholder was and nowhere
 * outside those strings (a leftmost replacement leaves no whole occurrence in the text between, and one
 * overlapping a replaced place cannot cross the string's quotes). A "no" only keeps a group out.
 */
function promqlOk(q: string, n: string): boolean {
  const key = q.split(n).join(PLACEHOLDER);
  const known = EXPR_VERDICTS.get(key);
  if (known !== undefined) return known;
  const ok = analyse(q, n);
  if (EXPR_VERDICTS.size < 10_000) EXPR_VERDICTS.set(key, ok);
  return ok;
}

function analyse(q: string, n: string): boolean {
  if (q.includes("\\")) return false;
  const allowed: [number, number][] = [];
  let ok = true;
  const tree = parser.parse(q);
  tree.iterate({
    enter: (node) => {
      if (!ok) return false;
      const name = node.type.name;
      const text = () => q.slice(node.from, node.to);
      if (node.type.isError) ok = false;
      else if (name === "FunctionIdentifier") ok = CLASS_FUNCTIONS.has(text());
      else if (name === "AggregateOp") ok = CLASS_AGGREGATIONS.has(text().toLowerCase());
      else if (name === "EqlRegex" || name === "NeqRegex" || name === "QuotedLabelMatcher" || name === "QuotedLabelName") ok = false;
      else if (name === "LabelName" && text() === "__name__") ok = false;
      else if (name === "VectorSelector") {
        const metric = node.node.getChild("Identifier");
        const m = metric && q.slice(metric.from, metric.to);
        ok = !!m && m !== "ALERTS" && m !== "ALERTS_FOR_STATE";
      } else if (name === "UnquotedLabelMatcher") {
        const op = node.node.getChild("MatchOp")?.firstChild?.type.name;
        const str = node.node.getChild("StringLiteral");
        if ((op === "EqlSingle" || op === "Neq") && str) allowed.push([str.from + 1, str.to - 1]);
      }
      return ok;
    },
  });
  if (!ok) return false;
  for (let at = q.indexOf(n); at >= 0; at = q.indexOf(n, at + n.length)) {
    if (!allowed.some(([from, to]) => from <= at && at + n.length <= to)) return false;
  }
  return true;
}
