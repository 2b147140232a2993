import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { runBuild, type BuildResult } from "../../build/pipeline.ts";
import { formatIssue } from "../../errors.ts";
import { formatTable, summaryLine } from "../../policy/index.ts";
import { describeAdminUi } from "../../platform/lib/access.ts";
import { diffTree, isClean, writeTree } from "../../render/write.ts";
import { defaultCacheDirs } from "../../validate/chart-cache.ts";
import { EXIT, type Command } from "../command.ts";

const HELP = `Usage: homelab build [options]

Renders homelab.config.ts into gitops/ after validating every object:
Kubernetes and CRD schemas (unknown fields rejected), Helm values against each pinned chart's
defaults, and structural rules. Nothing is written unless every check passes.

Options:
  --check               Write nothing; exit 1 and list the files that differ when the
                        committed tree is stale.
  --config <file>       Config file (default: homelab.config.ts)
  --versions <file>     Versions file (default: versions.yaml)
  --chart-cache <dirs>  Colon-separated chart cache folders (default: $HOMELAB_CHART_CACHE,
                        else ~/.cache/homelab/charts)
  --offline             Never download charts missing from the cache.
  --quiet               Print only problems and the final line.
  -h, --help            Show this help.

Exit codes: 0 success, 1 invalid config / validation errors / stale tree, 2 usage, 70 internal error.
In CI (CI=true) a chart missing from the cache is an error instead of a warning.`;

export interface BuildOptions {
  readonly check: boolean;
  readonly config: string;
  readonly versions: string;
  readonly chartCache: readonly string[];
  readonly offline: boolean;
  readonly quiet: boolean;
}

/** The rendered roots `homelab build` owns. */
export const MANAGED_ROOTS = ["gitops"] as const;

export function parseBuildArgs(argv: string[], env = process.env): BuildOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      check: { type: "boolean", default: false },
      config: { type: "string", default: "homelab.config.ts" },
      versions: { type: "string", default: "versions.yaml" },
      "chart-cache": { type: "string" },
      offline: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
    },
    allowPositionals: false,
    strict: true,
  });
  return {
    check: values.check ?? false,
    config: values.config ?? "homelab.config.ts",
    versions: values.versions ?? "versions.yaml",
    chartCache: values["chart-cache"] ? values["chart-cache"].split(":").filter(Boolean) : defaultCacheDirs(env),
    offline: values.offline ?? false,
    quiet: values.quiet ?? false,
  };
}

export async function runBuildCommand(opts: BuildOptions, root = process.cwd()): Promise<number> {
  const started = performance.now();
  const ci = process.env.CI === "true";
  const result = await runBuild({
    root,
    configPath: resolve(root, opts.config),
    versionsPath: resolve(root, opts.versions),
    chartCacheDirs: opts.chartCache,
    download: !opts.offline,
    ci,
  });
  for (const w of result.warnings) console.error(`WARNING: ${w}`);
  const policyErrors = result.policy.counts.errors;
  if (result.policy.violations.length > 0) console.error(formatTable(result.policy));
  if (result.issues.length > 0 || policyErrors > 0) {
    console.error(`homelab build: ${result.issues.length} validation error(s), ${policyErrors} policy error(s); nothing was written.`);
    for (const i of result.issues) console.error(`  - ${formatIssue(i)}`);
    return EXIT.failed;
  }
  const managed = [result.config.git.path];
  const diff = diffTree(root, managed, result.plan.files);
  if (opts.check) {
    if (!isClean(diff)) {
      console.error("homelab build --check: the committed tree is stale; run `homelab build` and commit:");
      for (const f of diff.added) console.error(`  added:   ${f}`);
      for (const f of diff.changed) console.error(`  changed: ${f}`);
      for (const f of diff.removed) console.error(`  removed: ${f}`);
      return EXIT.failed;
    }
  } else if (!isClean(diff)) {
    writeTree(root, managed, result.plan.files);
  }
  if (!opts.quiet) console.log(summary(result, opts.check, isClean(diff)));
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
  for (const c of [...r.platform.components].sort((a, b) => a.props.wave - b.props.wave || a.name.localeCompare(b.name))) {
    const pin = c.helm ? r.versions.charts[c.helm.chart] : undefined;
    const count = r.plan.folders.find((f) => f.name === c.name)?.objects.length ?? 0;
    w(`  ${String(c.props.wave).padStart(3)}  ${c.name.padEnd(16)} ${c.props.layer.padEnd(9)} ${pin ? `${c.helm!.chart}@${pin.version}` : "-"}  (${count} objects${c.secrets.length ? `, ${c.secrets.length} secret(s)` : ""})`);
  }
  w();
  const kinds = new Map<string, number>();
  for (const o of r.plan.objects) kinds.set(o.object.kind, (kinds.get(o.object.kind) ?? 0) + 1);
  w(`Objects (${r.plan.objects.length}): ${[...kinds].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  w();
  w("Charts:");
  for (const c of r.charts) w(`  ${c.name}@${c.version}  ${c.repo}${c.defaults.startsWith("MISSING") ? "  (values NOT checked)" : ""}`);
  w("Images:");
  for (const [name, img] of Object.entries(r.versions.images).sort(([a], [b]) => a.localeCompare(b))) w(`  ${name}  ${img.image}:${img.tag}`);
  for (const a of r.config.apps) w(`  ${a.name}  ${a.image}:${a.tag}  (app)`);
  w();
  const checked = r.charts.filter((c) => !c.defaults.startsWith("MISSING")).length;
  w("Admin UIs:");
  for (const ui of r.platform.adminUis) w(`  ${describeAdminUi(ui)}`);
  w();
  w(`Validation: ${r.plan.objects.length} objects against Kubernetes/CRD schemas (unknown fields rejected), Helm values of ${checked}/${r.charts.length} charts: ${r.issues.length} errors, ${r.warnings.length} warnings`);
  w(`Policy: ${summaryLine(r.policy)}`);
  for (const n of r.policy.notes) w(`  not run: ${n.rule}: ${n.message}`);
  w(`Timing (ms): ${Object.entries(r.timings).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  return lines.join("\n");
}

export const build: Command = {
  name: "build",
  summary: "Render and validate the gitops tree (--check: verify the committed tree is current)",
  help: HELP,
  run: (argv) => runBuildCommand(parseBuildArgs(argv)),
};
