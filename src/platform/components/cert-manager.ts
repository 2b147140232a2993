import type { Construct } from "constructs";
import { Component } from "../lib/component.ts";
import type { PlatformContext } from "../lib/context.ts";
import { peer } from "../lib/network.ts";
import type { CertManagerValues } from "../values/cert-manager.ts";
import type { K8sObject } from "../../model/k8s.ts";

/** Let's Encrypt endpoints; staging first when rebuilding, to stay clear of the production rate limits. */
export const ACME_SERVERS = {
  "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
  "letsencrypt-production": "https://acme-v02.api.letsencrypt.org/directory",
} as const;

export interface CertManagerProps {
  /** Ingress class the HTTP-01 solver uses. @default "nginx" */
  readonly ingressClass?: string;
}

/**
 * cert-manager owns every certificate: its chart (with CRDs) plus one ClusterIssuer per Let's Encrypt
 * environment, solving HTTP-01 through the nginx ingress class (the challenge arrives through the tunnel).
 */
export class CertManager extends Component {
  constructor(scope: Construct, ctx: PlatformContext, props: CertManagerProps = {}) {
    super(scope, "cert-manager", ctx, {
      wave: -2,
      layer: "platform",
      needsApiServer: true,
      // The CRDs are larger than client-side apply's annotation limit.
      syncOptions: ["ServerSideApply=true"],
    });
    const ingressClass = props.ingressClass ?? "nginx";
    const { shape, config } = ctx;
    const resources = (cpu: string, memory: string, limit: string) => ({ requests: { cpu, memory }, limits: { memory: limit } });
    const replicas = shape.replicas(2);
    const pdb = { enabled: true, maxUnavailable: 1 };

    const values: CertManagerValues = {
      crds: { enabled: true, keep: true },
      // The lease lives with cert-manager rather than in kube-system, so its RBAC stays in its own namespace.
      global: { leaderElection: { namespace: "cert-manager" } },
      replicaCount: replicas,
      podDisruptionBudget: pdb,
      resources: resources("10m", "64Mi", "256Mi"),
      prometheus: { enabled: true },
      webhook: { replicaCount: replicas, podDisruptionBudget: pdb, resources: resources("10m", "32Mi", "128Mi") },
      cainjector: { replicaCount: replicas, podDisruptionBudget: pdb, resources: resources("10m", "64Mi", "256Mi") },
    };
    this.release({
      chart: "cert-manager",
      values,
      freeform: ["resources", "webhook.resources", "cainjector.resources"].map((path) => ({
        path,
        reason: "Kubernetes ResourceRequirements, empty by default",
      })),
    });

    for (const [name, server] of Object.entries(ACME_SERVERS)) this.add(clusterIssuer(name, server, config.acme.email, ingressClass));

    const controller = { "app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller" };
    this.allow({
      name: "acme",
      direction: "egress",
      pods: controller,
      peers: [peer.internet()],
      // 443: the ACME API. 80: the HTTP-01 self-check, which goes out through the tunnel like Let's Encrypt does.
      ports: [{ port: 443 }, { port: 80 }],
    });
    this.allow({
      name: "webhook-from-apiserver",
      direction: "ingress",
      pods: { "app.kubernetes.io/name": "webhook" },
      peers: ctx.apiServerAddresses.map((a) => peer.cidr(`${a}/32`)),
      ports: [{ port: 10250 }],
    });
    // The controller, webhook and cainjector all serve metrics on 9402.
    this.allow({ name: "metrics-from-monitoring", direction: "ingress", peers: [peer.ns("monitoring")], ports: [{ port: 9402 }] });
  }
}

function clusterIssuer(name: string, server: string, email: string, ingressClassName: string): K8sObject {
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "ClusterIssuer",
    metadata: {
      name,
      annotations: {
        // After the chart's webhook is healthy; and the CRD may not exist yet during the first dry run.
        "argocd.argoproj.io/sync-wave": "1",
        "argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true",
      },
    },
    spec: {
      acme: {
        server,
        email,
        privateKeySecretRef: { name: `${name}-account-key` },
        solvers: [{ http01: { ingress: { ingressClassName } } }],
      },
    },
  };
}
