/**
 * `homelab build` without the disk writes: load, render, validate. Every check runs and every finding is
 * collected, so one run shows everything that is wrong.
 */
import type { HomelabConfig, Versions } from "../config/schema.ts";
import { loadConfig, loadVersions } from "../config/load.ts";
import { UserError, type Issue } from "../errors.ts";
import { platform, type Platform } from "../platform/platform.ts";
import { render, type Plan } from "../render/render.ts";
import { loadChartDefaults } from "../validate/chart-cache.ts";
import { checkHelmValues } from "../validate/helm-values.ts";
import { validateObjects } from "../validate/kube-schema.ts";

export interface BuildInputs {
  /** Repository root: config, versions and the rendered tree are relative to it. */
  readonly root: string;
  readonly configPath: string;
  readonly versionsPath: string;
  readonly chartCacheDirs: readonly string[];
  /** Download missing charts from their Helm repository into the first cache dir. */
  readonly download: boolean;
  /** In CI a chart missing from the cache is an error, not a warning. */
  readonly ci: boolean;
}

export interface BuildResult {
  readonly config: HomelabConfig;
  readonly versions: Versions;
  readonly platform: Platform;
  readonly plan: Plan;
  readonly issues: readonly Issue[];
  readonly warnings: readonly string[];
  /** Milliseconds per phase. */
  readonly timings: Readonly<Record<string, number>>;
  /** Per chart: where its defaults came from, or why they are missing. */
  readonly charts: readonly { name: string; version: string; repo: string; defaults: string }[];
}

export async function runBuild(inputs: BuildInputs): Promise<BuildResult> {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - t);
    t = now;
  };

  const config = await loadConfig(inputs.configPath);
  const versions = loadVersions(inputs.versionsPath);
  lap("config");

  const p = platform(config, versions);
  const plan = render(p);
  lap("render");

  const issues: Issue[] = [...validateObjects(plan.objects)];
  lap("schemas");

  const warnings: string[] = [];
  const charts: BuildResult["charts"][number][] = [];
  await Promise.all(
    p.components.map(async (c) => {
      if (!c.helm) return;
      const pin = versions.charts[c.helm.chart]!;
      const ref = { name: c.helm.chart, repo: pin.repo, version: pin.version };
      // A failed download is reported like a cache miss: loudly, and as an error in CI.
      const found = await loadChartDefaults(ref, { cacheDirs: [...inputs.chartCacheDirs], download: inputs.download }).catch(
        (err: unknown) => {
          if (err instanceof UserError) return { missing: err.message };
          throw err;
        },
      );
      if ("missing" in found) {
        charts.push({ ...ref, defaults: `MISSING: ${found.missing}` });
        const msg = `no defaults for chart ${ref.name}@${ref.version} (${found.missing}); its Helm values were NOT checked`;
        if (inputs.ci) issues.push({ subject: `chart ${ref.name}@${ref.version}`, path: "", message: msg, check: "helm-values" });
        else warnings.push(msg);
        return;
      }
      charts.push({ ...ref, defaults: found.dir });
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
    }),
  );
  charts.sort((a, b) => a.name.localeCompare(b.name));
  lap("helm-values");

  return { config, versions, platform: p, plan, issues, warnings, timings, charts };
}
