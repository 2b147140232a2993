import type { Pdb, Resources } from "./common.ts";

type Deployment = { replicaCount: number; podDisruptionBudget: Pdb; resources: Resources };

/** cert-manager chart v1.x: the values the cert-manager component sets. */
export type CertManagerValues = Deployment & {
  crds: { enabled: boolean; keep: boolean };
  global: { leaderElection: { namespace: string } };
  prometheus: { enabled: boolean };
  webhook: Deployment;
  cainjector: Deployment;
};
