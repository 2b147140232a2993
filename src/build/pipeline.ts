/**
 * `homelab build` without the disk writes: load, render, validate. Every check runs and every finding is
 * collected, so one run shows everything that is wrong.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { HomelabConfig, Versions } from "../config/schema.ts";
import { loadConfig, loadVersions } from "../config/load.ts";
import type { Issue } from "../errors.ts";
import { platform, type Platform } from "../platform/platform.ts";
import { render, type Plan } from "../render/render.ts";
import { LOCK_DIR, lockedDefaults } from "../validate/chart-lock.ts";
import { checkHelmValues } from "../validate/helm-values.ts";
import { chartValuesFiles, preparseValues } from "../validate/chart-cache.ts";
import { chartImages, readAppVersions } from "../platform/lib/chart-images.ts";
import { loadSchemas, validateObjects } from "../validate/kube-schema.ts";
import { collectSecretFiles } from "../secrets/declared.ts";
import { scanReport } from "../secrets/scan.ts";
import { checkPolicies, modelFromPlatform, type PolicyReport } from "../policy/index.ts";
import { loadWaivers, readScanTargets } from "../secrets/scan-inputs.ts";
import { checkAlertGroups, RUNBOOK_DIR, type AlertGroup } from "../platform/lib/alerts.ts";
import { checkDashboards, DASHBOARD_LABEL, queryCount } from "../platform/lib/dashboards.ts";
import { promtoolAvailable, promtoolCheckRules, promtoolTestRules, type TestRulesRun } from "../validate/promtool.ts";
import { backupCoverageIssues } from "../backup/coverage.ts";
import { renderHosts } from "../host/hosts.ts";

export interface BuildInputs {
  /** Repository root: config, versions and the rendered tree are relative to it. */
  readonly root: string;
  readonly configPath: string;
  readonly versionsPath: string;
  /** The day policy waivers are judged against. @default today */
  readonly today?: Date;
  /**
   * Whether to run promtool on the alert rules where it is installed. The docs site reads the model right
   * after `homelab build` has run it, and only needs the parse. @default true
   */
  readonly promtool?: boolean;
}

export interface BuildResult {
  readonly config: HomelabConfig;
  readonly versions: Versions;
  readonly platform: Platform;
  readonly plan: Plan;
  readonly issues: readonly Issue[];
  /** Policy rules over the rendered tree; its errors fail the build like validation errors. */
  readonly policy: PolicyReport;
  readonly warnings: readonly string[];
  /** The components' alert rules and how far the build could check them. */
  readonly alerts: {
    readonly rules: number;
    readonly tests: number;
    readonly promtool: "passed" | "failed" | "not found";
    readonly rendered: number;
    /** The groups `promtool test rules` ran, found passed in the cache, or gave their template's verdict (validate/promtool.ts). */
    readonly groups?: TestRulesRun["groups"];
  };
  /** The dashboards, their queries (each parsed) and how many ConfigMaps went into the tree. */
  readonly dashboards: { readonly count: number; readonly queries: number; readonly rendered: number };
  /** Milliseconds per phase. */
  readonly timings: Readonly<Record<string, number>>;
  /** Per chart a component installs: the lock folder its defaults were read from. */
  readonly charts: readonly { name: string; version: string; repo: string; defaults: string }[];
  /** The host layer: files under hosts/ and the Compose stack's services (checked against the Compose schema). */
  readonly hosts: { readonly nodes: number; readonly files: number; readonly composeServices: number };
}

export async function runBuild(inputs: BuildInputs): Promise<BuildResult> {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - t);
    t = now;
  };

  // The locked charts' values (about 1 MB of YAML) are parsed on another thread meanwhile where no parsed
  // copy is cached yet (a fresh clone): they are needed only by the helm-values step.
  preparseValues(lockedValuesFiles(inputs.root));
  const config = await loadConfig(inputs.configPath);
  const versions = loadVersions(inputs.versionsPath);
  lap("config");

  const p = platform(config, versions);
  // promtool runs in child processes: started first, it works while this process renders and checks the
  // rest, and is waited for at the end (a cold build runs every group's unit tests: most of its time).
  const groups = p.components.flatMap((c) => c.alertGroups);
  const promtoolRun = startPromtool(inputs, p, groups);
  // Should a later step throw, its error is the one reported; this run's outcome is then not wanted.
  promtoolRun.catch(() => undefined);
  const declared = collectSecretFiles(
    p.components.flatMap((c) => c.secrets),
    inputs.root,
  );
  const orphans = undeclaredSecretFiles(inputs.root, new Set(declared.files.map((f) => f.path.replace(/^gitops\//, "secrets/"))));
  const secretFiles = new Map(declared.files.map((f) => [f.path.replace(/^gitops\//, "").replace(/\.sops\.yaml$/, ""), f.content]));
  const gitops = render(p, { secretFiles });
  // The host layer (hosts/<node>/): a second rendered root, written, checked and scanned with the first.
  const hosts = renderHosts(p, gitops.files, inputs.root);
  const plan: Plan = { ...gitops, files: [...gitops.files, ...hosts.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
  lap("render");

  const issues: Issue[] = [...declared.issues, ...hosts.issues];
  await loadSchemas(plan.objects);
  issues.push(...validateObjects(plan.objects));
  lap("schemas");

  // Every volume claim backed up with its data, or exempt with a reason; no hostPath volume where backups expect data.
  issues.push(...backupCoverageIssues(p.backup, plan.objects));

  // Plaintext in the sources the operator edits (the rendered tree is scanned by the policy rule).
  const scan = scanReport(readScanTargets(inputs.root, ["homelab.config.ts", "versions.yaml", "secrets"]), loadWaivers(inputs.root));
  for (const f of scan.findings) issues.push({ file: f.file, subject: `line ${f.line}`, path: "", message: f.message, check: `secret-scan/${f.rule}` });
  lap("secret-scan");

  // Alert rules: PromQL parsed, both test cases and a runbook section present; then, where promtool is
  // installed, its own rule check and the unit tests. Without promtool the build still passes (a laptop
  // may lack it) and says so; HOMELAB_REQUIRE_PROMTOOL=1 makes that an error (the test suite always has it).
  const alertIssues = checkAlertGroups(groups, (page) => {
    const file = join(inputs.root, RUNBOOK_DIR, `${page}.md`);
    return existsSync(file) ? readFileSync(file, "utf8") : undefined;
  });
  issues.push(...alertIssues);
  // promtool's findings go here, in the order the build has always reported them.
  const promtoolAt = issues.length;
  const rules = groups.reduce((n, g) => n + g.rules.length, 0);
  const rendered = plan.objects.filter((o) => o.object.kind === "PrometheusRule").length;
  lap("alerts");

  // Dashboards: every PromQL and LogQL query parsed, naming the dashboard and panel of a syntax error.
  issues.push(...checkDashboards(p.dashboards));
  const dashboards = {
    count: p.dashboards.length,
    queries: p.dashboards.reduce((n, d) => n + queryCount(d), 0),
    rendered: plan.objects.filter((o) => o.object.kind === "ConfigMap" && o.object.metadata.labels?.grafana_dashboard === DASHBOARD_LABEL.grafana_dashboard).length,
  };
  lap("dashboards");

  const warnings: string[] = orphans.map((f) => `${f} is not declared by any app or component, so nothing deploys it; list it in the app's \`secrets\` in homelab.config.ts (or delete it)`);
  const charts: BuildResult["charts"][number][] = [];
  // Every chart versions.yaml pins must be locked, not only those installed today: the lock is what
  // review and Renovate keep in step with versions.yaml.
  const locked = await lockedDefaults(inputs.root, versions);
  for (const [name, message] of locked.problems) {
    issues.push({ file: "versions.yaml", subject: `chart ${name}`, path: `/charts/${name}`, message, check: "chart-lock" });
  }
  await Promise.all(p.components.map(async (c) => {
    if (!c.helm) return;
    const pin = versions.charts[c.helm.chart]!;
    const ref = { name: c.helm.chart, repo: pin.repo, version: pin.version };
    const lockedChart = locked.found.get(c.helm.chart);
    if (!lockedChart) return; // reported above
    const found = await lockedChart.defaults();
    charts.push({ ...ref, defaults: `${LOCK_DIR}/${c.helm.chart}-${pin.version}` });
    issues.push(
      ...checkHelmValues({
        chart: ref.name,
        version: ref.version,
        values: c.helm.values,
        defaults: found.values,
        ...(found.schema !== undefined ? { schema: found.schema } : {}),
        freeform: c.helm.freeform ?? [],
      }).map((i) => ({ ...i, file: `${config.git.path}/root/application-${c.name}.yaml` })),
    );
    // Each declared container image must read one from the same merge (a wrong path reads nothing).
    if (c.helm.containers?.some((x) => x.image !== undefined)) {
      const { problems } = chartImages({ chart: ref.name, appVersions: await readAppVersions(found.dir), defaults: found.values, values: c.helm.values, containers: c.helm.containers });
      for (const pr of problems) issues.push({ file: `src/platform/components/${c.name}.ts`, subject: `component ${c.name}`, path: `containers[${pr.container}].image`, message: pr.message, check: "chart-images" });
    }
  }));
  charts.sort((a, b) => a.name.localeCompare(b.name));
  lap("helm-values");

  const objectFiles = new Set(plan.objects.map((o) => o.file));
  const policy = checkPolicies(
    {
      objects: plan.objects,
      files: plan.files.filter((f) => !objectFiles.has(f.path)),
      model: modelFromPlatform(p),
      kubernetesVersion: config.kubernetesVersion,
      secretScanWaivers: loadWaivers(inputs.root),
    },
    { waivers: config.policy.waivers, today: inputs.today ?? new Date() },
  );
  lap("policy");

  const ran = await promtoolRun;
  issues.splice(promtoolAt, 0, ...ran.issues);
  const alerts = { rules, tests: rules * 2, promtool: ran.promtool, rendered, ...(ran.groups && { groups: ran.groups }) };
  lap("promtool-wait");

  return { config, versions, platform: p, plan, issues, policy, alerts, dashboards, warnings, timings, charts, hosts: hosts.summary };
}

/**
 * Where promtool is installed, its own rule check and the unit tests of every alert group. Without promtool
 * the build still passes (a laptop may lack it) and says so; HOMELAB_REQUIRE_PROMTOOL=1 makes that an error
 * (the test suite always has it).
 */
async function startPromtool(inputs: BuildInputs, p: Platform, groups: readonly AlertGroup[]): Promise<{ issues: Issue[]; promtool: BuildResult["alerts"]["promtool"]; groups?: TestRulesRun["groups"] }> {
  if (!groups.length) return { issues: [], promtool: "passed" };
  if (inputs.promtool === false) return { issues: [], promtool: "not found" };
  if (!promtoolAvailable()) {
    if (process.env.HOMELAB_REQUIRE_PROMTOOL !== "1") return { issues: [], promtool: "not found" };
    return {
      issues: [{ subject: "alert rules", path: "", message: "promtool is not on PATH and HOMELAB_REQUIRE_PROMTOOL=1 (install Debian's `prometheus` package: scripts/ensure-tools.sh)", check: "promtool" }],
      promtool: "not found",
    };
  }
  // Groups whose exact files passed this promtool before are not run again (validate/promtool.ts).
  const cache = { dir: join(inputs.root, "node_modules", ".cache", "homelab", "promtool") };
  const [checked, tested] = await Promise.all([promtoolCheckRules(p.ctx, groups, cache), promtoolTestRules(p.ctx, groups, cache)]);
  const issues = [...checked];
  // A rule promtool cannot load fails every test of its file: report the rule, not the echo.
  if (!tested.ok && !checked.length) issues.push({ subject: "alert unit tests", path: "", message: `promtool test rules failed:\n${tested.output}`, check: "promtool" });
  return { issues, promtool: tested.ok ? "passed" : "failed", groups: tested.groups };
}

/** Every values.yaml of the chart lock: each chart's and its vendored subcharts'. */
function lockedValuesFiles(root: string): string[] {
  const lock = join(root, LOCK_DIR);
  if (!existsSync(lock)) return [];
  return readdirSync(lock, { withFileTypes: true })
    .filter((c) => c.isDirectory() || c.isSymbolicLink())
    .flatMap((c) => {
      const files = chartValuesFiles(join(lock, c.name));
      return [files.own, ...files.subcharts.map((s) => s.path)];
    });
}

/** Encrypted files under secrets/<app>/ that no component declares. */
function undeclaredSecretFiles(root: string, declared: ReadonlySet<string>): string[] {
  const dir = join(root, "secrets");
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const app of readdirSync(dir, { withFileTypes: true })) {
    if (!app.isDirectory()) continue;
    for (const f of readdirSync(join(dir, app.name))) {
      const path = `secrets/${app.name}/${f}`;
      if (/\.sops\.ya?ml$/.test(f) && !declared.has(path)) out.push(path);
    }
  }
  return out.sort();
}
