import { exemptionReason, POLICY_ANNOTATIONS } from "../annotations.ts";
import { selectorMatches } from "../lib/selectors.ts";
import { arr, namespaceOf, ofKind, rec, str, stringMap, violation } from "../lib/util.ts";
import type { LocatedObject } from "../../model/k8s.ts";
import type { Rule, Violation } from "../types.ts";

const PVC_RESOURCE_NAMES = new Set(["*", "persistentvolumeclaims", "persistentvolumeclaim", "pvc"]);

/** Whether a Velero Schedule's backup template takes in a claim of `ns` with `labels`. */
function scheduleCovers(schedule: LocatedObject, ns: string, labels: Record<string, string>): boolean {
  const spec = rec(schedule.object.spec);
  if (spec.paused === true) return false;
  const t = rec(spec.template);
  const included = arr(t.includedNamespaces);
  if (included.length && !included.includes("*") && !included.includes(ns)) return false;
  if (arr(t.excludedNamespaces).includes(ns)) return false;
  const incRes = arr(t.includedResources).map(String);
  if (incRes.length && !incRes.some((r) => PVC_RESOURCE_NAMES.has(r))) return false;
  if (arr(t.excludedResources).map(String).some((r) => PVC_RESOURCE_NAMES.has(r))) return false;
  if (t.labelSelector !== undefined && !selectorMatches(t.labelSelector, labels)) return false;
  const anyOf = arr(t.orLabelSelectors);
  if (anyOf.length && !anyOf.some((s) => selectorMatches(s, labels))) return false;
  return true;
}

export interface Claim {
  readonly owner: LocatedObject;
  readonly path: string;
  readonly namespace: string;
  /** Names of the claims as they will exist in the cluster. */
  readonly names: string[];
  readonly labels: Record<string, string>;
  readonly exemption?: string;
}

/** Every claim the objects make: PersistentVolumeClaims and StatefulSet claim templates (one per replica). */
export function claims(objects: readonly LocatedObject[]): Claim[] {
  const out: Claim[] = [];
  for (const lo of ofKind(objects, "PersistentVolumeClaim")) {
    out.push({
      owner: lo,
      path: "/metadata",
      namespace: namespaceOf(lo.object) ?? "",
      names: [lo.object.metadata.name],
      labels: stringMap(lo.object.metadata.labels),
      ...optional(exemptionReason(stringMap(lo.object.metadata.annotations), POLICY_ANNOTATIONS.backupExempt)),
    });
  }
  for (const sts of ofKind(objects, "StatefulSet")) {
    const spec = rec(sts.object.spec);
    const replicas = typeof spec.replicas === "number" ? spec.replicas : 1;
    const selectorLabels = stringMap(rec(spec.selector).matchLabels);
    arr(spec.volumeClaimTemplates).forEach((t, i) => {
      const md = rec(rec(t).metadata);
      const tpl = str(md.name) ?? `#${i}`;
      const names = Array.from({ length: Math.max(replicas, 1) }, (_, n) => `${tpl}-${sts.object.metadata.name}-${n}`);
      const reason =
        exemptionReason(stringMap(md.annotations), POLICY_ANNOTATIONS.backupExempt) ??
        exemptionReason(stringMap(sts.object.metadata.annotations), POLICY_ANNOTATIONS.backupExempt);
      // The StatefulSet controller labels its claims with the template labels and the selector labels.
      out.push({ owner: sts, path: `/spec/volumeClaimTemplates/${i}`, namespace: namespaceOf(sts.object) ?? "", names, labels: { ...stringMap(md.labels), ...selectorLabels }, ...optional(reason) });
    });
  }
  return out;
}

function optional(exemption: string | undefined): { exemption?: string } {
  return exemption ? { exemption } : {};
}

export const backupCoverage: Rule = {
  id: "backup-coverage",
  title: "Every PersistentVolumeClaim is backed up or exempt with a reason",
  severity: "error",
  why: "Data that no Velero schedule covers is lost with the disk. Some volumes are caches and may go, but that must be a decision written down, not an accident.",
  fix: `Include the claim's namespace (and labels) in a Velero Schedule, or annotate the claim (or the StatefulSet) with \`${POLICY_ANNOTATIONS.backupExempt}: <reason>\`.`,
  needsModel: true,
  check(ctx) {
    const schedules = ofKind(ctx.objects, "Schedule").filter((s) => s.object.apiVersion.startsWith("velero.io/"));
    const external = ctx.model?.backupCoveredPVCs;
    const out: Violation[] = [];
    for (const c of claims(ctx.objects)) {
      if (c.exemption) continue;
      const covered = (name: string) => (external?.(c.namespace, name) ?? false) || schedules.some((s) => scheduleCovers(s, c.namespace, c.labels));
      const missing = c.names.filter((n) => !covered(n));
      if (missing.length === 0) continue;
      const what = c.owner.object.kind === "StatefulSet" ? `claims ${missing.join(", ")}` : "claim";
      out.push(violation(this, c.owner, c.path, `${what} covered by no backup schedule and not annotated ${POLICY_ANNOTATIONS.backupExempt}`));
    }
    return out;
  },
};

