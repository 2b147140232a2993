/**
 * Alert rules as code: every component's alerts run through the real `promtool test rules` and
 * `promtool check rules`, and the build-time checks (PromQL grammar, both test cases, runbook sections)
 * refuse bad rules by name.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { checkAlertGroups, promqlSyntaxError, promtoolTests, ruleGroup, RUNBOOK_DIR, type AlertGroup, type AlertRule } from "../../src/platform/lib/alerts.ts";
import { MONITORING, platform } from "../../src/platform/platform.ts";
import { checkPolicies, modelFromPlatform } from "../../src/policy/index.ts";
import { render } from "../../src/render/render.ts";
import { loadSchemas, validateObjects } from "../../src/validate/kube-schema.ts";
import { mergeCases, promtoolCheckRules, promtoolTestRules, type PromtoolTestFile } from "../../src/validate/promtool.ts";
import { config, defaultInputCopy, REPO, versions } from "../helpers.ts";
import { logged } from "./promtool-log.ts";

const p = platform(config(), versions());
const groups = p.components.flatMap((c) => c.alertGroups);
const runbook = (page: string) => {
  const f = join(REPO, RUNBOOK_DIR, `${page}.md`);
  return existsSync(f) ? readFileSync(f, "utf8") : undefined;
};
/** The same groups with `change` applied to every rule. */
const mutated = (change: (r: AlertRule) => AlertRule): AlertGroup[] => groups.map((g) => ({ ...g, rules: g.rules.map(change) }));
/** A platform whose components render their PrometheusRules, as they do once the monitoring stack exists. */
function withRules() {
  const q = platform(config(), versions());
  for (const c of q.components) c.renderAlertRules();
  return q;
}
const one = (rule: Partial<AlertRule>): AlertGroup[] => [{ component: "site", name: "site-test", rules: [{ ...groups[0]!.rules[0]!, ...rule }] }];

describe("component alerts", () => {
  it("every component the issue names declares its alerts", () => {
    const byComponent = Object.fromEntries(p.components.map((c) => [c.name, c.alertGroups.flatMap((g) => g.rules.map((r) => r.alert)).sort()]));
    assert.deepEqual(byComponent, {
      argocd: ["ArgoCdAppDegraded", "ArgoCdAppOutOfSync", "ArgoCdOperationStuck", "ArgoCdSyncFailed"],
      "cert-manager": ["CertManagerACMEErrors", "CertificateExpiringSoon", "CertificateNotReady"],
      "ingress-nginx": ["IngressHigh5xxRatio", "IngressHighLatency"],
      cloudflared: ["CloudflaredNoHealthyConnections", "CloudflaredTunnelDown"],
      // Storage's rules live with the stack: local-path-storage syncs before the PrometheusRule kind exists.
      "local-path-storage": [],
      monitoring: [
        "NodeClockSkew",
        "NodeDiskFillingUp",
        "NodeMemoryLow",
        "PersistentVolumeClaimPending",
        "PersistentVolumeFillingUp",
        "PrometheusRuleFailures",
        "PrometheusScrapeFailures",
        "TargetDown",
        "Watchdog",
      ],
      velero: ["VeleroBackupFailed", "VeleroBackupMissing", "VeleroBackupPartiallyFailed", "VeleroStorageLocationUnavailable", "RestoreDrillFailed", "RestoreDrillNotRunRecently"].sort(),
      "backup-canary": [],
      loki: ["LokiCompactorNotRunning", "LokiDiscardingSamples", "LokiRequestErrors"],
      alloy: ["AlloyComponentUnhealthy", "AlloyLogsDropped", "AlloyLokiRequestsFailing"],
      site: ["AppDown", "AppStale"],
    });
  });

  it("pass the real promtool unit tests: each fires with its labels and stays quiet in its other case", async () => {
    const r = await promtoolTestRules(p.ctx, groups);
    assert.equal(r.ok, true, r.output);
    assert.equal((r.output.match(/SUCCESS/g) ?? []).length, groups.length, r.output);
    // Two tests per rule, each named after its alert.
    for (const g of groups) {
      const names = (promtoolTests(p.ctx, g, "x.yaml").tests as { name: string }[]).map((t) => t.name);
      assert.deepEqual(names, g.rules.flatMap((r) => [`${r.alert} fires`, `${r.alert} stays quiet`]));
    }
  });

  it("the unit tests fail when a rule changes: a threshold that never trips, or one that always does", async () => {
    const never = await promtoolTestRules(p.ctx, mutated((r) => ({ ...r, expr: `(${r.expr}) and on() vector(0) > 1` })));
    assert.equal(never.ok, false);
    for (const g of groups) for (const r of g.rules) assert.match(never.output, new RegExp(`name: ${r.alert} fires,`), `${r.alert} fires case did not notice`);
    const always = await promtoolTestRules(p.ctx, mutated((r) => ({ ...r, expr: `vector(1)`, tests: { ...r.tests, fires: { ...r.tests.fires, labels: {} } } })));
    assert.equal(always.ok, false);
    for (const g of groups) for (const r of g.rules) assert.match(always.output, new RegExp(`name: ${r.alert} stays quiet,`), `${r.alert} quiet case did not notice`);
  });

  it("many groups are shared out to several promtool runs: every group is tested and a failure in the last one is reported", async () => {
    // More than two runs' share (16 files each): the files are split between runs. Not more, so the
    // test stays within promtool's time limit however many alerts the default config declares.
    const copies = Math.ceil(33 / groups.length);
    const many = Array.from({ length: copies }, (_, i) => groups.map((g) => ({ ...g, name: `${g.name}-${i}` }))).flat();
    assert.ok(many.length > 32);
    const ok = await promtoolTestRules(p.ctx, many);
    assert.equal(ok.ok, true, ok.output);
    assert.equal((ok.output.match(/SUCCESS/g) ?? []).length, many.length, ok.output);
    const last = many.at(-1)!;
    const broken = [...many.slice(0, -1), { ...last, rules: last.rules.map((r) => ({ ...r, expr: `(${r.expr}) and on() vector(0) > 1` })) }];
    const r = await promtoolTestRules(p.ctx, broken);
    assert.equal(r.ok, false);
    assert.equal((r.output.match(/SUCCESS/g) ?? []).length, many.length - 1, r.output);
    assert.match(r.output, new RegExp(`${last.name}\\.test\\.yaml`));
  });

  it("expected labels are checked: a wrong label fails the fires case", async () => {
    const r = await promtoolTestRules(p.ctx, one({ tests: { ...groups[0]!.rules[0]!.tests, fires: { ...groups[0]!.rules[0]!.tests.fires, labels: { name: "other" } } } }));
    assert.equal(r.ok, false);
    assert.match(r.output, /fires,/);
  });

  it("a cache of promtool's passes skips exactly the unchanged groups; failures are never kept", async () => {
    const dir = mkdtempSync(join(tmpdir(), "promtool-cache-"));
    const cache = { dir };
    const path = process.env.PATH;
    try {
      const first = await promtoolTestRules(p.ctx, groups, cache);
      assert.ok(first.ok, first.output);
      assert.deepEqual(await promtoolCheckRules(p.ctx, groups, cache), []);
      assert.equal(readdirSync(dir).length, groups.length * 2);
      // Without promtool on the PATH, only the cache can answer: every group passes from it, in order.
      process.env.PATH = dir;
      const again = await promtoolTestRules(p.ctx, groups, cache);
      assert.equal(again.output, groups.map((g) => `Unit Testing:  ${g.name}.test.yaml\n  SUCCESS`).join("\n"));
      assert.deepEqual(await promtoolCheckRules(p.ctx, groups, cache), []);
      // A changed group is not in the cache: promtool must run, and here it cannot be found.
      await assert.rejects(promtoolTestRules(p.ctx, mutated((r) => ({ ...r, for: "1h" })), cache), /ENOENT/);
      process.env.PATH = path;
      const broken = one({ tests: { ...groups[0]!.rules[0]!.tests, fires: { ...groups[0]!.rules[0]!.tests.fires, labels: { name: "other" } } } });
      for (const _ of [1, 2]) assert.equal((await promtoolTestRules(p.ctx, broken, cache)).ok, false);
      assert.equal(readdirSync(dir).length, groups.length * 2);
    } finally {
      process.env.PATH = path;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("pass promtool check rules; a broken template is refused", async () => {
    assert.deepEqual(await promtoolCheckRules(p.ctx, groups), []);
    const bad = await promtoolCheckRules(p.ctx, one({ description: "{{ $labels.host " }));
    assert.equal(bad.length, 1);
    assert.match(bad[0]!.message, /promtool check rules failed: .*site-test\.rules\.yaml/s);
  });

  it("are not rendered without the monitoring stack: the PrometheusRule kind would not exist and the Application would never sync", () => {
    const { monitoring: _, ...components } = config().components;
    const bare = platform(config({ components }), versions());
    assert.equal(bare.components.some((c) => c.name === MONITORING), false);
    assert.ok(bare.components.some((c) => c.alertGroups.length > 0));
    assert.deepEqual(render(bare).objects.filter((o) => ["PrometheusRule", "ServiceMonitor", "PodMonitor"].includes(o.object.kind)), []);
  });

  it("render as PrometheusRule objects that pass the prometheus-operator schema, linking their runbook section", async () => {
    const plan = render(withRules());
    const rules = plan.objects.filter((o) => o.object.kind === "PrometheusRule");
    assert.deepEqual(rules.map((o) => o.file).sort(), [
      "gitops/alloy/prometheusrule-alloy-pipeline.yaml",
      "gitops/argocd/prometheusrule-argocd-applications.yaml",
      "gitops/cert-manager/prometheusrule-cert-manager-certificates.yaml",
      "gitops/cloudflared/prometheusrule-cloudflared-tunnel.yaml",
      "gitops/ingress-nginx/prometheusrule-ingress-nginx-traffic.yaml",
      "gitops/loki/prometheusrule-loki-logs.yaml",
      "gitops/monitoring/prometheusrule-monitoring-prometheus.yaml",
      "gitops/monitoring/prometheusrule-monitoring-storage.yaml",
      "gitops/site/prometheusrule-site-availability.yaml",
      "gitops/velero/prometheusrule-velero-backups.yaml",
      "gitops/velero/prometheusrule-velero-restore-drill.yaml",
    ]);
    await loadSchemas(rules);
    assert.deepEqual(validateObjects(rules), []);
    const rule = (rules[0]!.object.spec as { groups: { rules: Record<string, unknown>[] }[] }).groups[0]!.rules[0]!;
    assert.deepEqual(rule, (ruleGroup(p.ctx, groups.find((g) => g.component === "argocd")!).rules as unknown[])[0]);
    assert.equal(
      (rule.annotations as Record<string, string>).runbook_url,
      "https://git.skypalette.ai/skypalette/homelab/src/branch/main/docs/runbooks/argocd.md#argocdappoutofsync",
    );
    assert.deepEqual(rule.labels, { severity: "warning" });
  });

  it("every runbook section exists in docs/runbooks/", () => {
    assert.deepEqual(checkAlertGroups(groups, runbook), []);
  });
});

describe("build-time alert checks", () => {
  const issues = (g: AlertGroup[], page = runbook) => checkAlertGroups(g, page).map((i) => `${i.subject} ${i.path}: ${i.message} [${i.check}]`);

  it("a PromQL syntax error names the PrometheusRule and the alert", () => {
    assert.equal(promqlSyntaxError("sum(rate(x[5m])) by (a"), 22);
    assert.equal(promqlSyntaxError('max by (name) (argocd_app_info{sync_status="OutOfSync"}) == 1'), undefined);
    const got = issues(one({ expr: "rate(up[5m]" }));
    assert.equal(got.length, 1);
    assert.match(got[0]!, /^PrometheusRule site\/site-test \/spec\/groups\/0\/rules\/0\/expr: alert ArgoCdAppOutOfSync: PromQL syntax error at character \d+ of 'rate\(up\[5m\]' \[promql\]$/);
  });

  it("a rule without both test cases fails", () => {
    const { fires, quiet } = groups[0]!.rules[0]!.tests;
    assert.match(issues(one({ tests: { fires } as AlertRule["tests"] })).join("\n"), /alert ArgoCdAppOutOfSync: has no unit-test case where it stays quiet \(tests.quiet\) \[alert-tests\]/);
    assert.match(issues(one({ tests: { quiet } as AlertRule["tests"] })).join("\n"), /has no unit-test case where it fires/);
    assert.match(issues(one({ tests: { fires: { ...fires, series: [] }, quiet } })).join("\n"), /has no unit-test case where it fires/);
  });

  it("a templated annotation needs its expanded text in the fires case", () => {
    const { fires, quiet } = groups[0]!.rules[0]!.tests;
    assert.match(issues(one({ tests: { fires: { ...fires, annotations: {} }, quiet } })).join("\n"), /description is a template: give its expanded text in tests.fires.annotations.description/);
  });

  it("a missing runbook page or section fails", () => {
    assert.match(issues(one({ runbook: "nowhere" })).join("\n"), /runbook page docs\/runbooks\/nowhere.md does not exist \[alert-runbook\]/);
    assert.match(issues(one({}), () => "# Argo CD\n\n## ArgoCdAppDegraded\n").join("\n"), /docs\/runbooks\/argocd.md has no '## ArgoCdAppOutOfSync' section/);
  });

  it("an alert declared twice in one group fails", () => {
    const r = groups[0]!.rules[0]!;
    assert.match(issues([{ component: "x", name: "x-y", rules: [r, r] }]).join("\n"), /declared twice/);
  });
});

describe("policy: alert-unit-tests on the default config", () => {
  it("runs and passes, counting every declared alert as tested", () => {
    const plan = render(withRules());
    const model = modelFromPlatform(p);
    assert.deepEqual([...model.testedAlerts!].sort(), groups.flatMap((g) => g.rules.map((r) => r.alert)).sort());
    const report = checkPolicies({ objects: plan.objects, model, kubernetesVersion: "1.34" }, { waivers: [], today: new Date(), only: ["alert-unit-tests", "alert-runbook"] });
    assert.deepEqual(report.notes, []);
    assert.deepEqual(report.violations, []);
  });

  it("fails for an alert in the tree that no component tested", () => {
    const plan = render(withRules());
    const model = { ...modelFromPlatform(p), testedAlerts: new Set(["AppDown"]) };
    const report = checkPolicies({ objects: plan.objects, model, kubernetesVersion: "1.34" }, { waivers: [], today: new Date(), only: ["alert-unit-tests"] });
    // Every alert but AppDown.
    assert.equal(report.violations.length, groups.reduce((n, g) => n + g.rules.length, 0) - 1);
    assert.ok(report.violations.every((v) => v.rule === "alert-unit-tests" && !v.message.includes("AppDown")));
  });
});

describe("promtool unit tests merged across groups", () => {
  // Every group runs here, as it does with the classes off: the merging is what these tests are about
  // (promtool-classes.test.ts tests groups that share their template's verdict).
  const own = process.env.HOMELAB_PROMTOOL_EVERY_GROUP;
  before(() => {
    process.env.HOMELAB_PROMTOOL_EVERY_GROUP = "1";
  });
  after(() => {
    if (own === undefined) delete process.env.HOMELAB_PROMTOOL_EVERY_GROUP;
    else process.env.HOMELAB_PROMTOOL_EVERY_GROUP = own;
  });
  // The default config and 50 more apps: every app's group repeats the same template.
  const apps = [...(defaultInputCopy().apps ?? []), ...Array.from({ length: 50 }, (_, i) => ({ name: `extra-${i}`, image: `git.skypalette.ai/x/app-${i}`, tag: "1.0.0", port: 8080, host: `extra-${i}.skypalette.ai` }))];
  const big = platform(config({ apps } as never), versions());
  const bigGroups = big.components.flatMap((c) => c.alertGroups);
  const appGroup = (name: string) => big.components.find((c) => c.name === name)!.alertGroups[0]!;
  const testFile = (g: AlertGroup) => ({ test: `${g.name}.test.yaml`, file: promtoolTests(big.ctx, g, `${g.name}.rules.yaml`) as unknown as PromtoolTestFile });

  it("each app's cases join one case per alert and outcome, loading every app's rules", () => {
    const appGroups = apps.map((a) => appGroup(a.name));
    const { files, rest } = mergeCases(bigGroups.map(testFile));
    const down = files.find((f) => f.file.tests[0]!.name === "AppDown fires")!;
    assert.equal(down.tests.length, apps.length);
    assert.deepEqual(down.file.rule_files, appGroups.map((g) => `${g.name}.rules.yaml`));
    assert.equal(down.file.tests[0]!.input_series.length, apps.length);
    assert.equal(down.file.tests[0]!.alert_rule_test[0]!.exp_alerts.length, apps.length);
    const quiet = files.find((f) => f.file.tests[0]!.name === "AppDown stays quiet")!;
    assert.deepEqual(quiet.file.tests[0]!.alert_rule_test[0]!.exp_alerts, []);
    // An app's AppDown cases all left its own file; a case only one group has (the default site's AppStale) stays there.
    for (const g of appGroups) assert.deepEqual(rest.get(`${g.name}.test.yaml`)!.map((c) => c.name), g.rules.filter((r) => r.alert !== "AppDown").flatMap((r) => [`${r.alert} fires`, `${r.alert} stays quiet`]));
    assert.ok(appGroups.some((g) => rest.get(`${g.name}.test.yaml`)!.length));
    const argocd = big.components.find((c) => c.name === "argocd")!.alertGroups[0]!;
    assert.equal(rest.get(`${argocd.name}.test.yaml`)!.length, argocd.rules.length * 2);
  });

  it("pass promtool in far fewer files than groups, each group reported as passed", async () => {
    const own = process.env.GOMAXPROCS;
    delete process.env.GOMAXPROCS;
    const { result, files, gomaxprocs, runs } = await logged(() => promtoolTestRules(big.ctx, bigGroups)).finally(() => {
      if (own !== undefined) process.env.GOMAXPROCS = own;
    });
    assert.equal(result.ok, true, result.output);
    assert.equal(result.output, bigGroups.map((g) => `Unit Testing:  ${g.name}.test.yaml\n  SUCCESS`).join("\n"));
    assert.ok(files.some((f) => f.startsWith("Merged-")), files.join(" "));
    assert.ok(files.length < bigGroups.length / 2, `${files.length} files for ${bigGroups.length} groups`);
    // Each promtool runs on one Go thread, leaving the other core to the build (less CPU in all).
    assert.ok(gomaxprocs.length > 0 && gomaxprocs.every((v) => v === "1"), gomaxprocs.join(" "));
    // The merged cases (each loading every app's rules) are the heavy files: each goes to a run of its own.
    const merged = runs.map((r) => r.filter((f) => f.startsWith("Merged-")).length);
    assert.ok(runs.length >= 2 && merged.every((n) => n <= 1) && merged.reduce((a, b) => a + b, 0) >= 2, JSON.stringify(runs));
  });

  it("a broken app rule among many is reported under its own group, the others pass", async () => {
    const victim = appGroup("extra-17");
    const broken = bigGroups.map((g) => (g === victim ? { ...g, rules: g.rules.map((r) => ({ ...r, expr: `(${r.expr}) and on() vector(0) > 1` })) } : g));
    const dir = mkdtempSync(join(tmpdir(), "promtool-cache-"));
    try {
      const r = await promtoolTestRules(big.ctx, broken, { dir });
      assert.equal(r.ok, false);
      // promtool names the file on standard output and the failing case, with its labels, on standard error.
      assert.match(r.output, new RegExp(`Unit Testing:  ${victim.name}\\.test\\.yaml\\n(?!  SUCCESS)`));
      assert.match(r.output, /FAILED:\s+name: AppDown fires,[^]*namespace="extra-17"/);
      assert.doesNotMatch(r.output, /Merged-/);
      assert.equal((r.output.match(/SUCCESS/g) ?? []).length, bigGroups.length - 1, r.output);
      // Every other group's pass is kept, the broken one's is not.
      assert.equal(readdirSync(dir).length, bigGroups.length - 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("two groups with the same series text but other values are not merged, and both pass", async () => {
    const a = appGroup("extra-3");
    // The same app's rules in a second group whose "fires" series drops to zero earlier: it fires too.
    const b: AlertGroup = { ...a, name: `${a.name}-again`, rules: a.rules.map((r) => ({ ...r, tests: { ...r.tests, fires: { ...r.tests.fires, series: r.tests.fires.series.map((s) => ({ ...s, values: s.values === "1x5 0x15" ? "1x3 0x17" : s.values })) } } })) };
    assert.notDeepEqual(b.rules[0]!.tests.fires.series, a.rules[0]!.tests.fires.series);
    assert.deepEqual(b.rules[0]!.tests.fires.series.map((s) => s.series), a.rules[0]!.tests.fires.series.map((s) => s.series));
    assert.deepEqual(mergeCases([a, b].map(testFile)).files, []);
    const { result, files } = await logged(() => promtoolTestRules(big.ctx, [a, b]));
    assert.equal(result.ok, true, result.output);
    assert.deepEqual(files.sort(), [`${a.name}.test.yaml`, `${b.name}.test.yaml`].sort());
  });
});
