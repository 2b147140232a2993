/**
 * The HA shape: one function of the topology decides replicas, disruption budgets and spreading.
 * Everything that differs between one node and several is decided here and nowhere else.
 */
import type { NodeConfig } from "../../config/schema.ts";

export interface Shape {
  /** Nodes that run workloads. */
  readonly schedulableNodes: number;
  /** True when more than one node can run workloads: several replicas, spread over hosts. */
  readonly ha: boolean;
  /** Nodes with the control-plane role. */
  readonly controlPlaneNodes: number;
  /**
   * True with three or more control-plane nodes (and three schedulable ones): only then is there a
   * majority left when one node is lost, so quorum-based things (Redis Sentinel in Argo CD's redis-ha,
   * with its hard anti-affinity over three hosts) are switched on.
   */
  readonly quorum: boolean;
  /** Replicas for a workload that would like `preferred` copies. */
  replicas(preferred: number): number;
  /** Disruption budget spec that never blocks draining a node. */
  pdb(matchLabels: Record<string, string>): Record<string, unknown>;
  /** Pod anti-affinity spreading copies over nodes; undefined on one node. */
  affinity(matchLabels: Record<string, string>): Record<string, unknown> | undefined;
  /** Topology spread constraints; empty on one node. */
  spread(matchLabels: Record<string, string>): Record<string, unknown>[];
}

export function shapeFor(nodes: readonly NodeConfig[]): Shape {
  const schedulable = nodes.filter((n) => n.roles.includes("worker")).length || nodes.length;
  const ha = schedulable > 1;
  const controlPlane = nodes.filter((n) => n.roles.includes("control-plane")).length;
  return {
    schedulableNodes: schedulable,
    ha,
    controlPlaneNodes: controlPlane,
    quorum: controlPlane >= 3 && schedulable >= 3,
    replicas: (preferred) => (ha ? Math.max(2, Math.min(preferred, schedulable)) : 1),
    // maxUnavailable 1 lets a drain evict the only copy on one node and keeps n-1 copies up on several;
    // AlwaysAllow stops a crash-looping pod from blocking a drain.
    pdb: (matchLabels) => ({ maxUnavailable: 1, selector: { matchLabels }, unhealthyPodEvictionPolicy: "AlwaysAllow" }),
    affinity: (matchLabels) =>
      ha
        ? {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                { labelSelector: { matchLabels }, topologyKey: "kubernetes.io/hostname" },
              ],
            },
          }
        : undefined,
    spread: (matchLabels) =>
      ha ? [{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels } }] : [],
  };
}
