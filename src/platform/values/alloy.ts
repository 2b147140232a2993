import type { Resources } from "./common.ts";

type PolicyRule = { apiGroups: string[]; resources: string[]; verbs: string[] };
type Volume = { name: string; hostPath: { path: string; type: string } };
type EmptyDirVolume = { name: string; emptyDir: Record<string, never> };
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

/** The same chart as the single-replica events collector (alloy-events.ts): a Deployment, nothing from the host. */
export type AlloyEventsValues = Omit<AlloyValues, "controller"> & {
  nameOverride: string;
  fullnameOverride: string;
  controller: { type: "deployment"; replicas: 1; volumes: { extra: EmptyDirVolume[] } };
};
