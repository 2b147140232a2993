import type { HomelabConfig, Versions } from "../config/schema.ts";
import { contextFor } from "../platform/lib/context.ts";
import type { Platform } from "../platform/platform.ts";
import type { HomelabModel } from "./types.ts";
import { coveredByPlan } from "../backup/coverage.ts";

/**
 * The model-aware rules' view of the homelab, derived from the validated config and versions.yaml.
 * `extra` supplies what only the platform knows (tested alerts, backups configured through chart values).
 */
export function modelFromConfig(
  config: HomelabConfig,
  versions: Versions,
  extra: Pick<HomelabModel, "backupCoveredPVCs" | "testedAlerts" | "monitoring"> = {},
): HomelabModel {
  return {
    nodes: config.nodes.length,
    gitRepoURL: contextFor(config, versions).gitRepoURL,
    allowedChartRepos: [...new Set(Object.values(versions.charts).map((c) => c.repo))].sort(),
    ...(config.policy.allowedRegistries && { allowedRegistries: config.policy.allowedRegistries }),
    ...extra,
  };
}

/** The model of a rendered platform: the config's view plus what only the components know. */
export function modelFromPlatform(p: Platform, extra: Pick<HomelabModel, "backupCoveredPVCs" | "testedAlerts"> = {}): HomelabModel {
  // An alert counts as tested when it declares both promtool cases; the build and the suite run them.
  const testedAlerts = new Set(
    p.components.flatMap((c) => c.alertGroups.flatMap((g) => g.rules.filter((r) => r.tests?.fires && r.tests?.quiet).map((r) => r.alert))),
  );
  // The same backup plan the build's coverage check judges claims against.
  const plan = p.backup;
  const backupCoveredPVCs = (namespace: string) => coveredByPlan(plan, namespace);
  return modelFromConfig(p.ctx.config, p.ctx.versions, { testedAlerts, backupCoveredPVCs, ...extra, monitoring: p.components.some((c) => c.name === "monitoring") });
}
