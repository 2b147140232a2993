import type { Resources } from "./common.ts";

type PolicyRule = { apiGroups: string[]; resources: string[]; verbs: string[] };
type Volume = { name: string; hostPath: { path: string; type: string } };
type Mount = { name: string; mountPath: string; readOnly?: boolean };

/** grafana alloy chart 1.x: the values the alloy component sets. */
export type AlloyValues = {
  global: { podSecurityContext: Record<string, unknown> };
  crds: { create: boolean };
  alloy: {
    configMap: { create: boolean; name: string; key: string };
    clustering: { enabled: boolean };
    storagePath: string;
    listenPort: number;
    enableReporting: boolean;
    mounts: { varlog: boolean; dockercontainers: boolean; extra: Mount[] };
    securityContext: Record<string, unknown>;
    resources: Resources;
  };
  rbac: { create: boolean; rules: PolicyRule[]; clusterRules: PolicyRule[] };
  configReloader: { resources: Resources };
  controller: {
    type: "daemonset";
    priorityClassName: string;
    tolerations: Record<string, string>[];
    volumes: { extra: Volume[] };
  };
  service: { enabled: boolean };
  serviceMonitor: { enabled: boolean };
};
