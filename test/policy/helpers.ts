import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { K8sObject, LocatedObject } from "../../src/model/k8s.ts";
import type { HomelabModel } from "../../src/policy/index.ts";

/** A fixed day, so waiver expiry never depends on when the tests run. */
export const TODAY = new Date("2026-01-15T12:00:00Z");

interface ModelJson {
  nodes: number;
  gitRepoURL: string;
  allowedChartRepos: string[];
  backupCoveredPVCs?: string[];
  testedAlerts?: string[];
  allowedRegistries?: string[];
}

/** The model described by `<dir>/model.json` (`ns/name` strings for covered claims), if any. */
export function modelFor(dir: string): HomelabModel | undefined {
  const p = join(dir, "model.json");
  if (!existsSync(p)) return undefined;
  const m = JSON.parse(readFileSync(p, "utf8")) as ModelJson;
  const covered = new Set(m.backupCoveredPVCs ?? []);
  return {
    nodes: m.nodes,
    gitRepoURL: m.gitRepoURL,
    allowedChartRepos: m.allowedChartRepos,
    ...(m.backupCoveredPVCs && { backupCoveredPVCs: (ns: string, name: string) => covered.has(`${ns}/${name}`) }),
    ...(m.testedAlerts && { testedAlerts: new Set(m.testedAlerts) }),
    ...(m.allowedRegistries && { allowedRegistries: m.allowedRegistries }),
  };
}

export function located(object: Record<string, unknown>, file = "test.yaml"): LocatedObject {
  return { file, object: object as K8sObject };
}

/** The secret-scanner rule ids a no-plaintext-secrets message names (`… [rule]`), for writing waivers. */
export function scannerRules(message: string): string[] {
  return [...new Set([...message.matchAll(/\[([a-z0-9-]+)\]/g)].map((m) => m[1]!))];
}
