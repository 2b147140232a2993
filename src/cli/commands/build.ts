import { resolve } from "node:path";
import { buildFingerprint, cachedResult, checkoutCacheFile, recordResult } from "../../build/check-cache.ts";
import type { BuildResult } from "../../build/pipeline.ts";
import { formatIssue } from "../../errors.ts";
import { formatTable, summaryLine } from "../../policy/format.ts";
import { describeAdminUi } from "../../platform/lib/access.ts";
import { diffTree, isClean, readTreeRecord, writeTree, writeTreeRecord } from "../../render/write.ts";
import { LOCK_FILE } from "../../validate/lock-paths.ts";
import { HOSTS_ROOT } from "../../host/paths.ts";
import { defineSpec, parseCommandArgs, type ParsedArgs } from "../args.ts";
import { defineCommand, EXIT } from "../command.ts";

export const BUILD_SPEC = defineSpec({
  name: "build",
  summary: "Render and validate the gitops tree (--check: verify the committed tree is current)",
  synopsis: "[options]",
  description: `Renders homelab.config.ts into gitops/ and hosts/<node>/ after validating every object:
Kubernetes and CRD schemas (unknown fields rejected), Helm values against each pinned chart's
defaults as locked in ${LOCK_FILE} (refresh it with \`homelab charts pull\`), structural
rules, and the Compose stack against the Compose specification's schema. Nothing is written
unless every check passes. The build never uses the network.`,
  options: {
    check: { type: "boolean", help: "Write nothing; exit 1 and list the files that differ when the\ncommitted tree is stale." },
    config: { type: "string", value: "<file>", help: "Config file (default: homelab.config.ts)" },
    versions: { type: "string", value: "<file>", help: "Versions file (default: versions.yaml)" },
    offline: { type: "boolean", help: "Accepted for older scripts; the build is always offline." },
    quiet: { type: "boolean", help: "Print only problems and the final line." },
    "no-cache": {
      type: "boolean",
      help: "With --check: run every check even when nothing changed since the last\nsuccessful build or check (whose result is otherwise reused).",
    },
  },
  footer: `Exit codes: 0 success, 1 invalid config / validation errors / stale tree (a chart pinned in
versions.yaml but missing from the lock is a validation error), 2 usage, 70 internal error.`,
});

export interface BuildOptions {
  readonly check: boolean;
  readonly config: string;
  readonly versions: string;
  readonly quiet: boolean;
  /** Reuse the result of the last successful run when no input changed (--check only). @default true */
  readonly cache?: boolean;
}

/** The rendered roots `homelab build` owns beside the gitops folder (`git.path`). */
export const MANAGED_ROOTS = [HOSTS_ROOT] as const;

export function buildOptions({ values }: ParsedArgs<typeof BUILD_SPEC.options>): BuildOptions {
  return {
    check: values.check ?? false,
    config: values.config ?? "homelab.config.ts",
    versions: values.versions ?? "versions.yaml",
    quiet: values.quiet ?? false,
    cache: !(values["no-cache"] ?? false),
  };
}

export function parseBuildArgs(argv: string[]): BuildOptions {
  return buildOptions(parseCommandArgs(BUILD_SPEC, argv));
}

export async function runBuildCommand(opts: BuildOptions, root = process.cwd()): Promise<number> {
  const started = performance.now();
  // A check of exactly the inputs of the last successful run has its answer already (build/check-cache.ts).
  const cacheKey = { config: opts.config, versions: opts.versions };
  const fingerprint = opts.check && opts.cache !== false ? buildFingerprint(root, cacheKey) : undefined;
  const hit = fingerprint ? cachedResult(root, fingerprint) : undefined;
  if (hit) {
    for (const w of hit.warnings) console.error(`WARNING: ${w}`);
    if (!opts.quiet) console.log(hit.summary);
    const secs = ((performance.now() - started) / 1000).toFixed(2);
    console.log(`homelab build --check: ${hit.files} files current (${secs}s; no input changed since the full check of ${hit.at}, --no-cache runs it again)`);
    return EXIT.ok;
  }
  // The pipeline (renderer, schemas, policy rules) loads only when the check has to run.
  const { runBuild } = await import("../../build/pipeline.ts");
  const result = await runBuild({
    root,
    configPath: resolve(root, opts.config),
    versionsPath: resolve(root, opts.versions),
  });
  for (const w of result.warnings) console.error(`WARNING: ${w}`);
  const policyErrors = result.policy.counts.errors;
  if (result.policy.violations.length > 0) console.error(formatTable(result.policy));
  if (result.issues.length > 0 || policyErrors > 0) {
    console.error(`homelab build: ${result.issues.length} validation error(s), ${policyErrors} policy error(s); nothing was written.`);
    for (const i of result.issues) console.error(`  - ${formatIssue(i)}`);
    return EXIT.failed;
  }
  const managed = [result.config.git.path, ...MANAGED_ROOTS];
  // What the last build left in the tree: files whose stat it recorded are not read back (render/write.ts).
  const treeRecord = checkoutCacheFile(root, "tree");
  const lastTree = readTreeRecord(treeRecord);
  const diff = diffTree(root, managed, result.plan.files, lastTree);
  if (opts.check) {
    if (!isClean(diff)) {
      console.error("homelab build --check: the committed tree is stale; run `homelab build` and commit:");
      // Told from the tree's side: what is on disk compared with what the config renders.
      for (const f of diff.added) console.error(`  missing: ${f} — build would recreate it`);
      for (const f of diff.changed) console.error(`  changed: ${f} — build would rewrite it`);
      for (const f of diff.removed) console.error(`  stray:   ${f} — build would delete it`);
      return EXIT.failed;
    }
  } else if (!isClean(diff)) {
    const changed = new Set([...diff.added, ...diff.changed]);
    writeTree(root, managed, result.plan.files, new Set(result.plan.files.map((f) => f.path).filter((path) => !changed.has(path))));
    writeTreeRecord(treeRecord, root, result.plan.files, diff, true);
  }
  // A tree found current is recorded again only where the record did not vouch for every file already.
  if (isClean(diff) && !(lastTree && diff.recorded === result.plan.files.length && lastTree.files.size === diff.recorded)) writeTreeRecord(treeRecord, root, result.plan.files, diff, false);
  const text = summary(result, opts.check, isClean(diff));
  if (!opts.quiet) console.log(text);
  if (opts.cache !== false) {
    const record = { warnings: result.warnings, summary: text.replace(/^Timing \(ms\):.*$/m, "Timing: as in the full check reused here"), files: result.plan.files.length, at: new Date().toISOString() };
    // After a build the tree is what it wrote, so the inputs are fingerprinted again.
    // The rendered trees are on disk exactly as planned now (written, or compared equal): not read again.
    recordResult(root, fingerprint ?? buildFingerprint(root, cacheKey, new Date(), new Map(result.plan.files.map((f) => [f.path, f.content]))), record);
  }
  const secs = ((performance.now() - started) / 1000).toFixed(2);
  console.log(
    opts.check
      ? `homelab build --check: ${result.plan.files.length} files current (${secs}s)`
      : `homelab build: ${isClean(diff) ? "tree already current" : `wrote ${diff.added.length} new, ${diff.changed.length} changed, removed ${diff.removed.length}`}; ${result.plan.files.length} files (${secs}s)`,
  );
  return EXIT.ok;
}

export function summary(r: BuildResult, _check: boolean, _clean: boolean): string {
  const lines: string[] = [];
  const w = (s = "") => lines.push(s);
  w(`Homelab ${r.config.name} (${r.config.domain}), ${r.config.nodes.length} node(s): ${r.platform.ctx.shape.ha ? "HA shape" : "single-node shape"}`);
  w();
  w("Components (sync wave, layer, chart):");
  const nameWidth = Math.max(16, ...r.platform.components.map((c) => c.name.length));
  for (const c of [...r.platform.components].sort((a, b) => a.props.wave - b.props.wave || a.name.localeCompare(b.name))) {
    const pin = c.helm ? r.versions.charts[c.helm.chart] : undefined;
    const count = r.plan.folders.find((f) => f.name === c.name)?.objects.length ?? 0;
    w(`  ${String(c.props.wave).padStart(3)}  ${c.name.padEnd(nameWidth)} ${c.props.layer.padEnd(9)} ${pin ? `${c.helm!.chart}@${pin.version}` : "-"}  (${count} objects${c.secrets.length ? `, ${c.secrets.length} secret(s)` : ""})`);
  }
  w();
  const kinds = new Map<string, number>();
  for (const o of r.plan.objects) kinds.set(o.object.kind, (kinds.get(o.object.kind) ?? 0) + 1);
  w(`Objects (${r.plan.objects.length}): ${[...kinds].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  w();
  w("Charts:");
  for (const c of r.charts) w(`  ${c.name}@${c.version}  ${c.repo}  (defaults: ${c.defaults})`);
  w("Images:");
  for (const [name, img] of Object.entries(r.versions.images).sort(([a], [b]) => a.localeCompare(b))) w(`  ${name}  ${img.image}:${img.tag}`);
  for (const a of r.config.apps) w(`  ${a.name}  ${a.image}:${a.tag}  (app)`);
  w();
  w("Admin UIs:");
  for (const ui of r.platform.adminUis) w(`  ${describeAdminUi(ui)}`);
  w();
  w(`Hosts: ${r.hosts.files} files under hosts/ for ${r.hosts.nodes} node(s); the Compose stack's ${r.hosts.composeServices} services checked against the Compose specification's schema`);
  w(`Validation: ${r.plan.objects.length} objects against Kubernetes/CRD schemas (unknown fields rejected), Helm values of ${r.charts.length}/${r.charts.length} charts: ${r.issues.length} errors, ${r.warnings.length} warnings`);
  w(`Alert rules: ${r.alerts.rules} with ${r.alerts.tests} promtool test cases, PromQL parsed; promtool check + test rules: ${r.alerts.promtool === "not found" ? "not run (promtool is not on PATH; `npm test` installs and runs it)" : `${r.alerts.promtool}${testRulesCounts(r.alerts.groups)}`}; ${r.alerts.rendered ? `${r.alerts.rendered} PrometheusRules rendered` : "not rendered until the monitoring component brings the PrometheusRule CRD"}`);
  w(`Dashboards: ${r.dashboards.count} with ${r.dashboards.queries} queries, PromQL and LogQL parsed; ${r.dashboards.rendered ? `${r.dashboards.rendered} ConfigMaps rendered for Grafana` : "not rendered until the monitoring component brings Grafana"}`);
  w(summaryLine(r.policy).replace(/^policy /, "Policy: "));
  for (const n of r.policy.notes) w(`  not run: ${n.rule}: ${n.message}`);
  w(`Timing (ms): ${Object.entries(r.timings).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  return lines.join("\n");
}

/**
 * How `promtool test rules` covered the groups: those it ran, those whose exact files passed before (the
 * cache), those that took the verdict of their template's representative (validate/promtool.ts).
 */
function testRulesCounts(g: BuildResult["alerts"]["groups"]): string {
  if (!g) return "";
  const parts = [`test rules ran ${g.ran} of ${g.total} groups`];
  if (g.cached) parts.push(`${g.cached} passed before (cache)`);
  if (g.shared) parts.push(`${g.shared} share a template's verdict`);
  return ` (${parts.join("; ")})`;
}

export const build = defineCommand({ spec: BUILD_SPEC, run: (args) => runBuildCommand(buildOptions(args)) });
