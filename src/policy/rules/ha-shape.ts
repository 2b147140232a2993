import { podSpecs } from "../lib/pods.ts";
import { selectorMatches } from "../lib/selectors.ts";
import { arr, namespaceOf, ofKind, rec, violation } from "../lib/util.ts";
import type { LocatedObject } from "../../model/k8s.ts";
import type { Rule, Violation } from "../types.ts";

const HOSTNAME_KEY = "kubernetes.io/hostname";

/** Pods a workload runs; a DaemonSet runs one per node. */
function replicasOf(lo: LocatedObject, nodes: number): number {
  if (lo.object.kind === "DaemonSet") return nodes;
  const r = rec(lo.object.spec).replicas;
  return typeof r === "number" ? r : 1;
}

/** Resolves an int-or-percent budget field the way the disruption controller does (rounding up). */
function scaled(v: unknown, total: number): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    const m = /^(\d+)%$/.exec(v);
    if (m) return Math.ceil((Number(m[1]) * total) / 100);
    if (/^\d+$/.test(v)) return Number(v);
  }
  return undefined;
}

/** Evictions the budget allows while all `replicas` pods are healthy. */
function allowedDisruptions(pdbSpec: Record<string, unknown>, replicas: number): number | undefined {
  if (pdbSpec.maxUnavailable !== undefined) return scaled(pdbSpec.maxUnavailable, replicas);
  if (pdbSpec.minAvailable !== undefined) {
    const min = scaled(pdbSpec.minAvailable, replicas);
    return min === undefined ? undefined : Math.max(replicas - min, 0);
  }
  return undefined;
}

export const haShape: Rule = {
  id: "ha-shape",
  title: "HA settings fit the node count",
  severity: "error",
  why: "HA-shaped settings must not fight the topology: on one node a drain evicts every pod and no replacement can start elsewhere, so a PDB that keeps any pod up blocks node maintenance forever; required anti-affinity with more replicas than nodes leaves pods Pending.",
  fix: "Render PDBs only when there are several nodes (or let them allow every pod to go on one node); keep replicas with required hostname anti-affinity at or below the node count.",
  needsModel: true,
  check(ctx) {
    const nodes = ctx.model!.nodes;
    const workloads = ofKind(ctx.objects, "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet");
    // A budget only selects pods of its own namespace: each looks at that namespace's workloads (in input
    // order), not at every workload, which made the rule grow with budgets × workloads.
    const byNamespace = new Map<string | undefined, { w: LocatedObject; pod: ReturnType<typeof podSpecs>[number] }[]>();
    for (const w of workloads) {
      const pod = podSpecs(w)[0];
      if (!pod) continue;
      const ns = namespaceOf(w.object);
      let list = byNamespace.get(ns);
      if (!list) byNamespace.set(ns, (list = []));
      list.push({ w, pod });
    }
    const out: Violation[] = [];
    for (const pdb of ofKind(ctx.objects, "PodDisruptionBudget")) {
      const spec = rec(pdb.object.spec);
      for (const { w, pod } of byNamespace.get(namespaceOf(pdb.object)) ?? []) {
        if (!selectorMatches(spec.selector, pod.labels)) continue;
        const replicas = replicasOf(w, nodes);
        const allowed = allowedDisruptions(spec, replicas);
        if (allowed === undefined) continue;
        // One node: every pod must be evictable at once. Several: one eviction at a time is enough,
        // because each evicted pod can be replaced on another node.
        const needed = nodes === 1 ? replicas : 1;
        if (allowed < needed) {
          const field = spec.maxUnavailable !== undefined ? "maxUnavailable" : "minAvailable";
          out.push(
            violation(this, pdb, `/spec/${field}`, `blocks draining ${nodes === 1 ? "the only node" : "a node"}: allows ${allowed} of ${replicas} pod(s) of ${w.object.kind} ${w.object.metadata.name} to be evicted, needs ${needed}`),
          );
        }
      }
    }
    for (const w of workloads) {
      if (w.object.kind === "DaemonSet") continue;
      const pod = podSpecs(w)[0];
      if (!pod) continue;
      const replicas = replicasOf(w, nodes);
      if (replicas <= nodes) continue;
      arr(rec(rec(pod.spec.affinity).podAntiAffinity).requiredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => {
        // Only a term that repels the workload's own pods limits it to one pod per node.
        if (rec(t).topologyKey === HOSTNAME_KEY && selectorMatches(rec(t).labelSelector, pod.labels))
          out.push(
            violation(this, w, `${pod.path}/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/${i}`, `${replicas} replicas with required per-node anti-affinity on ${nodes} node(s): ${replicas - nodes} stay Pending`),
          );
      });
    }
    return out;
  },
};
