/**
 * Alert groups that are one template with another name share promtool's verdict (validate/promtool.ts,
 * `templateClass`): one representative runs, the others take its verdict, and a failing representative
 * makes every member run itself. These tests run the real promtool through a logging wrapper, prove that a
 * group whose verdict could depend on its name is never classed, and check on generated groups that equal
 * class keys really get equal verdicts from promtool.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { promtoolTests, ruleGroup, type AlertGroup, type AlertRule } from "../../src/platform/lib/alerts.ts";
import { platform } from "../../src/platform/platform.ts";
import { toYaml } from "../../src/render/render.ts";
import { promtoolTestRules, templateClass, type PromtoolTestFile } from "../../src/validate/promtool.ts";
import { config, defaultInputCopy, homelab, REPO, versions } from "../helpers.ts";
import { logged, promtoolLogger } from "./promtool-log.ts";

const extraApps = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `extra-${i}`, image: `git.skypalette.ai/x/app-${i}`, tag: "1.0.0", port: 8080, host: `extra-${i}.skypalette.ai` }));
const withApps = (n: number) => platform(config({ apps: [...(defaultInputCopy().apps ?? []), ...extraApps(n)] } as never), versions());
const testFile = (ctx: ReturnType<typeof withApps>["ctx"], g: AlertGroup) => promtoolTests(ctx, g, `${g.name}.rules.yaml`) as unknown as PromtoolTestFile;
const SUCCESS = (g: AlertGroup) => `Unit Testing:  ${g.name}.test.yaml\n  SUCCESS`;
const extraRuleFiles = (rules: readonly string[]) => [...new Set(rules.filter((f) => /^extra-\d+-availability\.rules\.yaml$/.test(f)))];

/** Runs `fn` with HOMELAB_PROMTOOL_EVERY_GROUP set to `value` (or unset), restoring it after. */
async function withEveryGroup<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const own = process.env.HOMELAB_PROMTOOL_EVERY_GROUP;
  if (value === undefined) delete process.env.HOMELAB_PROMTOOL_EVERY_GROUP;
  else process.env.HOMELAB_PROMTOOL_EVERY_GROUP = value;
  try {
    return await fn();
  } finally {
    if (own === undefined) delete process.env.HOMELAB_PROMTOOL_EVERY_GROUP;
    else process.env.HOMELAB_PROMTOOL_EVERY_GROUP = own;
  }
}

describe("promtool test rules: one run per template", () => {
  it("200 extra apps: the build runs one app group's tests, passes, and says how many groups shared a verdict", () => {
    // A scratch checkout whose promtool cache starts empty (its own node_modules/.cache).
    const dir = mkdtempSync(join(tmpdir(), "homelab-promclass-"));
    const log = promtoolLogger();
    try {
      for (const f of ["versions.yaml", "package.json"]) cpSync(join(REPO, f), join(dir, f));
      cpSync(join(REPO, "homelab.config.ts"), join(dir, "base.config.ts"));
      writeFileSync(join(dir, "homelab.config.ts"), `import base from "./base.config.ts";\nexport default { ...base, apps: [...(base.apps ?? []), ...${JSON.stringify(extraApps(200))}] };\n`);
      if (existsSync(join(REPO, "secrets"))) cpSync(join(REPO, "secrets"), join(dir, "secrets"), { recursive: true });
      for (const d of ["src", "charts", "docs", "schemas"]) if (existsSync(join(REPO, d))) symlinkSync(join(REPO, d), join(dir, d));
      mkdirSync(join(dir, "node_modules"));
      const res = homelab(["build", "--no-cache"], { cwd: dir, env: { PATH: `${log.dir}:${process.env.PATH}`, HOMELAB_REQUIRE_PROMTOOL: "1" } });
      assert.equal(res.code, 0, res.stderr);
      const groups = withApps(200).components.flatMap((c) => c.alertGroups);
      const nonApp = groups.filter((g) => !g.name.startsWith("extra-"));
      // Every group but the 200 extra apps' runs; of those one runs and 199 take its verdict.
      const m = /promtool check \+ test rules: passed \(test rules ran (\d+) of (\d+) groups; (\d+) share a template's verdict\)/.exec(res.stdout);
      assert.ok(m, res.stdout);
      assert.deepEqual(m.slice(1).map(Number), [nonApp.length + 1, groups.length, 199]);
      const { rules } = log.read();
      assert.equal(extraRuleFiles(rules).length, 1, rules.join(" "));
      // Every other group's rules were loaded: the default site app (its own template, with AppStale) too.
      assert.deepEqual(new Set(rules.filter((f) => !f.startsWith("extra-"))), new Set(nonApp.map((g) => `${g.name}.rules.yaml`)));
      assert.ok(rules.includes("site-availability.rules.yaml"));
    } finally {
      log.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const p = withApps(20);
  const groups = p.components.flatMap((c) => c.alertGroups);
  const app = (name: string) => groups.find((g) => g.component === name)!;

  it("the default site app is a template of its own (its AppStale rule); the extra apps share one class", () => {
    const key = (g: AlertGroup) => templateClass(p.ctx, g, testFile(p.ctx, g));
    const site = key(app("site"));
    assert.notEqual(site, undefined);
    assert.notEqual(site, key(app("extra-0")));
    assert.equal(new Set(extraApps(20).map((a) => key(app(a.name)))).size, 1);
    assert.notEqual(key(app("extra-0")), undefined);
  });

  it("a cache of passes keeps only the representative that ran; the members take its verdict again next time", async () => {
    const dir = mkdtempSync(join(tmpdir(), "promtool-cache-"));
    try {
      const first = await logged(() => promtoolTestRules(p.ctx, groups, { dir }));
      assert.equal(first.result.ok, true, first.result.output);
      assert.equal(first.result.output, groups.map(SUCCESS).join("\n"));
      assert.deepEqual(first.result.groups, { total: groups.length, ran: groups.length - 19, cached: 0, shared: 19 });
      assert.equal(extraRuleFiles(first.rules).length, 1);
      const again = await logged(() => promtoolTestRules(p.ctx, groups, { dir }));
      assert.equal(again.result.output, groups.map(SUCCESS).join("\n"));
      assert.deepEqual(again.result.groups, { total: groups.length, ran: 0, cached: groups.length - 19, shared: 19 });
      assert.deepEqual(again.files, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("HOMELAB_PROMTOOL_EVERY_GROUP=1 runs every group", async () => {
    const { result, rules } = await withEveryGroup("1", () => logged(() => promtoolTestRules(p.ctx, groups)));
    assert.equal(result.ok, true, result.output);
    assert.deepEqual(result.groups, { total: groups.length, ran: groups.length, cached: 0, shared: 0 });
    assert.equal(extraRuleFiles(rules).length, 20);
  });

  it("a broken template: every member fails, each reported under its own file and case", async () => {
    const broken = groups.map((g) => (g.name.startsWith("extra-") ? { ...g, rules: g.rules.map((r) => ({ ...r, expr: `(${r.expr}) and on() vector(0) > 1` })) } : g));
    const { result, rules } = await logged(() => promtoolTestRules(p.ctx, broken));
    assert.equal(result.ok, false);
    for (const g of broken) {
      if (g.name.startsWith("extra-")) {
        assert.match(result.output, new RegExp(`Unit Testing:  ${g.name}\\.test\\.yaml\\n(?!  SUCCESS)`));
        assert.match(result.output, new RegExp(`FAILED:\\s+name: AppDown fires,[^]*namespace="${g.component}"`));
      } else assert.ok(result.output.includes(SUCCESS(g)), g.name);
    }
    assert.equal((result.output.match(/SUCCESS/g) ?? []).length, groups.length - 20, result.output);
    assert.equal(result.groups.shared, 0);
    assert.equal(extraRuleFiles(rules).length, 20);
  });
});

/**
 * Hand-made groups whose verdict depends on their name in a way the classes must not hide: `pass(n)` is
 * true for the first name only. Every case is one template; without the eligibility checks all names would
 * share one class key, and the passing first group's verdict would hide the others' failures.
 */
describe("promtool test rules: what could tell two names apart is never classed", () => {
  const base = (n: string): AlertRule => ({
    alert: "ShopDown",
    expr: `max by (namespace, x) (up{namespace="${n}"}) == 0`,
    for: "1m",
    severity: "critical",
    summary: "A shop is down",
    description: "Shop {{ $labels.namespace }} is down.",
    runbook: "apps",
    tests: {
      fires: { series: [{ series: `up{namespace="${n}",x="r"}`, values: "0x20" }], at: "10m", labels: { namespace: n, x: "r" }, annotations: { description: `Shop ${n} is down.` } },
      quiet: { series: [{ series: `up{namespace="${n}",x="r"}`, values: "1x20" }], at: "10m" },
    },
  });
  const group = (n: string, change: (r: AlertRule, n: string) => AlertRule): AlertGroup => ({ component: n, name: `${n}-shop`, rules: [change(base(n), n)] });
  const fixtures: Record<string, { names: string[]; change: (r: AlertRule, n: string) => AlertRule }> = {
    "a regular expression matcher": { names: ["shop-0", "shop-1", "shop-2"], change: (r) => ({ ...r, expr: r.expr.replace(/namespace="[^"]*"/, 'namespace=~".*-0"') }) },
    label_replace: {
      names: ["shop-0", "shop-1", "shop-2"],
      change: (r, n) => ({ ...r, expr: `label_replace(up{namespace="${n}"}, "digit", "$1", "namespace", ".*-(0)") == 0`, tests: { ...r.tests, fires: { ...r.tests.fires, labels: { namespace: n, x: "r", digit: "0" } } } }),
    },
    "a toUpper template": { names: ["shop-0", "shop-1", "shop-2"], change: (r) => ({ ...r, description: "Shop {{ $labels.namespace | toUpper }} is down.", tests: { ...r.tests, fires: { ...r.tests.fires, annotations: { description: "Shop SHOP-0 is down." } } } }) },
    // "q" and the label "r" print the name "qr" only in the first group: a printed value must not touch a name character.
    "a printed label beside a name character": {
      names: ["qr", "zt", "kt"],
      change: (r, n) => ({ ...r, description: "q{{ $labels.x }}", tests: { ...r.tests, fires: { ...r.tests.fires, annotations: { description: n } } } }),
    },
    // A trim marker removes the space: "q {{- $labels.x }}" prints "qr" too.
    "a trim marker": {
      names: ["qr", "zt", "kt"],
      change: (r, n) => ({ ...r, description: "q {{- $labels.x }}", tests: { ...r.tests, fires: { ...r.tests.fires, annotations: { description: n } } } }),
    },
    // Two printed labels side by side: "r" and "r" print the first name, "rr".
    "two printed labels side by side": {
      names: ["rr", "zt", "kt"],
      change: (r, n) => ({ ...r, description: "{{ $labels.x }}{{ $labels.x }}", tests: { ...r.tests, fires: { ...r.tests.fires, annotations: { description: n } } } }),
    },
    // promtool prints the value 10^21 as "1e+21": a name made of what numbers print ("1e") is never classed.
    "a name that a printed number holds": {
      names: ["1e", "2e", "3e"],
      change: (r, n) => ({ ...r, expr: `(max(up{namespace="${n}"}) == 0) + 10^21`, description: "{{ $value }}", tests: { ...r.tests, fires: { ...r.tests.fires, labels: {}, annotations: { description: `${n}+21` } } } }),
    },
    // `\x71r` is "qr", the first name, in the expression's text without the name in it.
    "an escape in a string": { names: ["qr", "zt", "kt"], change: (r) => ({ ...r, expr: 'max by (namespace, x) (up{namespace="\\x71r"}) == 0' }) },
  };

  for (const [what, { names, change }] of Object.entries(fixtures)) {
    it(`${what}: the groups are not classed, and a group failing only because of its name is reported`, async () => {
      const p = withApps(0);
      const gs = names.map((n) => group(n, change));
      // Every group on its own: the first passes, the others fail (that is what makes the fixture).
      const own = await withEveryGroup("1", () => promtoolTestRules(p.ctx, gs));
      assert.ok(own.output.includes(SUCCESS(gs[0]!)), own.output);
      for (const g of gs.slice(1)) assert.ok(!own.output.includes(SUCCESS(g)), `${g.name} should fail on its own:\n${own.output}`);
      for (const g of gs) assert.equal(templateClass(p.ctx, g, testFile(p.ctx, g)), undefined, g.name);
      const r = await promtoolTestRules(p.ctx, gs);
      assert.equal(r.ok, false);
      assert.equal(r.output, own.output);
      assert.equal(r.groups.shared, 0);
    });
  }

  it("the same groups without the name-dependent construct share one class and all pass", async () => {
    const p = withApps(0);
    const gs = ["shop-0", "shop-1", "qr", "zt"].map((n) => group(n, (r) => r));
    assert.equal(new Set(gs.map((g) => templateClass(p.ctx, g, testFile(p.ctx, g)))).size, 1);
    const r = await promtoolTestRules(p.ctx, gs);
    assert.equal(r.ok, true, r.output);
    assert.deepEqual(r.groups, { total: 4, ran: 1, cached: 0, shared: 3 });
  });
});

/**
 * Generated groups: a template (matcher, aggregation, series, description, expectations) instantiated with
 * two names, some of them awkward (bordered, inside "NaN", one letter). Whenever both get the same class
 * key, promtool run on each group's own files gives both the same verdict.
 */
describe("promtool test rules: equal class keys, equal verdicts (property)", () => {
  const NAMES = ["shop-0", "shop-1", "qr", "zt", "kt", "bab", "b", "x-1", "bench-app-7", "r", "nan", "abc-0", "q", "true", "yes", "0x1b"];
  const template = fc.record({
    op: fc.constantFrom("=", "!=", "=~"),
    matcher: fc.constantFrom("name", "name", "other", "suffix"),
    agg: fc.constantFrom("", "max by (namespace, x) ", "count by (namespace, x) ", "sum by (namespace, x) "),
    series: fc.constantFrom("name", "name", "other"),
    x: fc.constantFrom("r", "name"),
    description: fc.constantFrom("D {{ $labels.namespace }}", "q{{ $labels.x }}", "{{ $labels.x }}{{ $labels.x }}", "D {{ $labels.namespace | toUpper }}", "D {{ $value }}", "D", "D name"),
    truthful: fc.constantFrom(true, true, true, false),
    expNamespace: fc.constantFrom("name", "other"),
    expX: fc.constantFrom("r", "name"),
    expDescription: fc.constantFrom("D name", "qname", "qr", "D NAME", "D 0", "D", "D other"),
  });
  type Template = typeof template extends fc.Arbitrary<infer T> ? T : never;

  function instance(t: Template, n: string): AlertGroup {
    const word = (w: string) => (w === "name" ? n : w === "suffix" ? `.*${n.slice(-1)}` : w);
    const text = (w: string) => w.replace(/name/g, n).replace(/NAME/g, n.toUpperCase());
    const m = word(t.matcher);
    const s = word(t.series);
    const x = word(t.x);
    // What promtool should see, by a small model of the query, for the "truthful" expectations.
    const matches = t.op === "=" ? m === s : t.op === "!=" ? m !== s : new RegExp(`^(?:${m})$`).test(s);
    const fires = matches && !t.agg.startsWith("count");
    const description = text(t.description);
    const expanded = description
      .replace("{{ $labels.namespace | toUpper }}", s.toUpperCase())
      .replace("{{ $labels.namespace }}", s)
      .replaceAll("{{ $labels.x }}", x)
      .replace("{{ $value }}", "0");
    const truth = t.truthful && fires;
    return {
      component: n,
      name: `${n}-generated`,
      rules: [
        {
          alert: "Generated",
          expr: `${t.agg}(up{namespace${t.op}"${m}"}) == 0`,
          severity: "warning",
          summary: "Generated",
          description,
          runbook: "apps",
          tests: {
            fires: {
              series: [{ series: `up{namespace="${s}",x="${x}"}`, values: "0x20" }],
              at: "10m",
              labels: truth ? { namespace: s, x } : { namespace: word(t.expNamespace), x: word(t.expX) },
              annotations: { description: truth ? expanded : text(t.expDescription) },
            },
            quiet: { series: [{ series: `up{namespace="${s}",x="${x}"}`, values: "1x20" }], at: "10m" },
          },
        },
      ],
    };
  }

  const p = withApps(0);
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "promtool-property-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  /** promtool's own verdict on the group's files, written as the build writes them. */
  function verdict(g: AlertGroup): boolean {
    writeFileSync(join(dir, `${g.name}.rules.yaml`), toYaml({ groups: [ruleGroup(p.ctx, g)] }));
    writeFileSync(join(dir, `${g.name}.test.yaml`), toYaml(promtoolTests(p.ctx, g, `${g.name}.rules.yaml`)));
    try {
      execFileSync("promtool", ["test", "rules", `${g.name}.test.yaml`], { cwd: dir, stdio: "ignore", env: { ...process.env, GOMAXPROCS: "1" } });
      return true;
    } catch {
      return false;
    }
  }

  it("40 generated pairs with one class key: promtool passes both or fails both", () => {
    const seen = { pass: 0, fail: 0 };
    fc.assert(
      fc.property(template, fc.constantFrom(...NAMES), fc.constantFrom(...NAMES), (t, n1, n2) => {
        fc.pre(n1 !== n2);
        const [g1, g2] = [instance(t, n1), instance(t, n2)];
        const k1 = templateClass(p.ctx, g1, testFile(p.ctx, g1));
        fc.pre(k1 !== undefined && k1 === templateClass(p.ctx, g2, testFile(p.ctx, g2)));
        const v = verdict(g1);
        seen[v ? "pass" : "fail"]++;
        assert.equal(verdict(g2), v, `${g1.name} and ${g2.name}: ${JSON.stringify(t)}`);
      }),
      { numRuns: 40, seed: 20261202 },
    );
    // Both verdicts occurred: the property was not checked on failures (or passes) alone.
    assert.ok(seen.pass > 0 && seen.fail > 0, JSON.stringify(seen));
    if (process.env.PROMCLASS_STATS) console.log("verdicts", JSON.stringify(seen));
  });
});
