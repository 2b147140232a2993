import type { Pdb, Resources } from "./common.ts";

/** argo-cd chart 10.x: the values the argocd component sets. */
export type ArgoCdValues = {
  global: { domain: string; networkPolicy: { create: boolean } };
  crds: { install: boolean; keep: boolean };
  configs: { cm: Record<string, string>; params: Record<string, string | boolean | number>; rbac?: { "policy.csv": string } };
  dex: { enabled: boolean };
  controller: { replicas: number; pdb: Pdb; resources: Resources };
  server: {
    replicas: number;
    pdb: Pdb;
    resources: Resources;
    ingress: { enabled: boolean; ingressClassName: string; hostname: string; annotations: Record<string, string>; tls: boolean };
  };
  repoServer: { replicas: number; pdb: Pdb; resources: Resources };
  applicationSet: { replicas: number; pdb: Pdb; resources: Resources };
  notifications: { resources: Resources };
  redis: { resources: Resources };
  "redis-ha": { enabled: boolean };
};
