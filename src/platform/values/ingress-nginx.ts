import type { Affinity, Resources } from "./common.ts";

/** ingress-nginx chart 4.x: the values the ingress-nginx component sets. */
export type IngressNginxValues = {
  controller: {
    replicaCount: number;
    maxUnavailable?: number;
    unhealthyPodEvictionPolicy?: "IfHealthyBudget" | "AlwaysAllow";
    ingressClassResource: { name: string; default: boolean };
    service: { type: "ClusterIP" | "LoadBalancer" | "NodePort" };
    /** The controller ConfigMap. */
    config: Record<string, string>;
    metrics: { enabled: boolean };
    resources: Resources;
    affinity?: Affinity;
  };
};
