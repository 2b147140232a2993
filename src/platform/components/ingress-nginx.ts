import type { Construct } from "constructs";
import { Component } from "../lib/component.ts";
import type { PlatformContext } from "../lib/context.ts";
import { ACME_SOLVER_PORT, INGRESS_CONTROLLER, peer } from "../lib/network.ts";
import type { IngressBackend } from "../lib/component.ts";
import type { IngressNginxValues } from "../values/ingress-nginx.ts";

export interface IngressNginxProps {
  /** Extra controller ConfigMap entries, merged over ours. @default {} */
  readonly config?: Record<string, string>;
}

export const CONTROLLER_LABELS = INGRESS_CONTROLLER.labels;
/** Where the cluster tunnel sends `*.<domain>`: HTTPS for traffic, plain HTTP for ACME challenges only. */
export const INGRESS_SERVICE = {
  https: "https://ingress-nginx-controller.ingress-nginx.svc.cluster.local:443",
  http: "http://ingress-nginx-controller.ingress-nginx.svc.cluster.local:80",
};

/**
 * ingress-nginx behind the Cloudflare tunnel. No LoadBalancer: the only way in is the in-cluster cloudflared,
 * which reaches the ClusterIP Service. Client addresses come from Cloudflare's header, trusted only from pods.
 * (The project is retired upstream; docs/decisions records the Gateway API migration path.)
 */
export class IngressNginx extends Component {
  constructor(scope: Construct, ctx: PlatformContext, props: IngressNginxProps = {}) {
    super(scope, "ingress-nginx", ctx, { wave: -1, layer: "edge", needsApiServer: true });
    const { shape, config } = ctx;
    const replicas = shape.replicas(2);
    const affinity = shape.affinity(CONTROLLER_LABELS);

    const values: IngressNginxValues = {
      controller: {
        replicaCount: replicas,
        maxUnavailable: 1,
        unhealthyPodEvictionPolicy: "AlwaysAllow",
        ingressClassResource: { name: "nginx", default: true },
        service: { type: "ClusterIP" },
        config: {
          // cloudflared is the only client: trust its forwarding headers, from pod addresses only.
          "use-forwarded-headers": "true",
          "forwarded-for-header": "CF-Connecting-IP",
          "compute-full-forwarded-for": "true",
          "proxy-real-ip-cidr": config.network.podCIDR,
          "allow-snippet-annotations": "false",
          "server-tokens": "false",
          "hsts-include-subdomains": "false",
          ...props.config,
        },
        metrics: { enabled: true },
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
        ...(affinity ? { affinity } : {}),
      },
    };
    this.release({
      chart: "ingress-nginx",
      values,
      freeform: [
        { path: "controller.config", reason: "ingress-nginx ConfigMap: free-form keys, empty by default" },
        { path: "controller.maxUnavailable", reason: "documented in the chart's values.yaml but commented out there" },
        { path: "controller.resources.limits", reason: "documented in the chart's values.yaml but commented out there" },
        { path: "controller.affinity", reason: "Kubernetes Affinity, empty by default" },
      ],
    });

    this.allow({ name: "from-cloudflared", direction: "ingress", pods: CONTROLLER_LABELS, peers: [peer.ns("cloudflared")], ports: [{ port: 80 }, { port: 443 }] });
    this.allow({ name: "metrics-from-monitoring", direction: "ingress", pods: CONTROLLER_LABELS, peers: [peer.ns("monitoring")], ports: [{ port: 10254 }] });
    this.allow({
      name: "webhook-from-apiserver",
      direction: "ingress",
      pods: CONTROLLER_LABELS,
      peers: ctx.apiServerAddresses.map((a) => peer.cidr(`${a}/32`)),
      ports: [{ port: 8443 }],
    });
  }

  /**
   * Egress to the backends of every Ingress, one flow per namespace and port (the Ingress owners are
   * known only once the whole platform is composed).
   */
  routeTo(backends: readonly IngressBackend[]): void {
    const byNamespace = new Map<string, Set<number>>();
    for (const b of backends) {
      const ports = byNamespace.get(b.namespace) ?? new Set<number>();
      for (const p of [b.port, ACME_SOLVER_PORT]) ports.add(p);
      byNamespace.set(b.namespace, ports);
    }
    for (const [namespace, ports] of [...byNamespace].sort(([a], [b]) => a.localeCompare(b))) {
      this.allow({
        name: `to-${namespace}`,
        direction: "egress",
        pods: CONTROLLER_LABELS,
        peers: [peer.ns(namespace)],
        ports: [...ports].sort((a, b) => a - b).map((port) => ({ port })),
      });
    }
  }
}
