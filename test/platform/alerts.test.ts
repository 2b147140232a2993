/**
 * Alert rules as code: every component's alerts run through the real `promtool test rules` and
 * `promtool check rules`, and the build-time checks (PromQL grammar, both test cases, runbook sections)
 * refuse bad rules by name.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { checkAlertGroups, promqlSyntaxError, promtoolTests, ruleGroup, RUNBOOK_DIR, type AlertGroup, type AlertRule } from "../../src/platform/lib/alerts.ts";
import { MONITORING, platform } from "../../src/platform/platform.ts";
import { checkPolicies, modelFromPlatform } from "../../src/policy/index.ts";
import { render } from "../../src/render/render.ts";
import { loadSchemas, validateObjects } from "../../src/validate/kube-schema.ts";
import { promtoolCheckRules, promtoolTestRules } from "../../src/validate/promtool.ts";
import { config, REPO, versions } from "../helpers.ts";

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
