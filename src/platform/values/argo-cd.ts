import type { Pdb } from "./common.ts";

/** argo-cd chart 10.x: the values the argocd component sets. */
export type ArgoCdValues = {
  global: { domain: string; networkPolicy: { create: boolean } };
  crds: { install: boolean; keep: boolean };
  configs: { cm: Record<string, string>; params: Record<string, string | boolean | number>; rbac?: { "policy.csv": string } };
  dex: { enabled: boolean };
  controller: { replicas: number; pdb: Pdb };
  server: {
    replicas: number;
    pdb: Pdb;
    ingress: { enabled: boolean; ingressClassName: string; hostname: string; annotations: Record<string, string>; tls: boolean };
  };
  repoServer: { replicas: number; pdb: Pdb };
  applicationSet: { replicas: number; pdb: Pdb };
  "redis-ha": { enabled: boolean };
};
