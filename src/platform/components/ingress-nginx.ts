import type { Construct } from "constructs";
import type { AlertRule } from "../lib/alerts.ts";
import { UserError } from "../../errors.ts";
import { Component } from "../lib/component.ts";
import { newDashboard, prom, redRow, RowBuilder, timeseries, withItems } from "../lib/dashboards.ts";
import type { PlatformContext } from "../lib/context.ts";
import { ACME_SOLVER_PORT, INGRESS_CONTROLLER, peer } from "../lib/network.ts";

/** cloudflared's pods (the only clients of the controller); kept here to avoid an import cycle. */
const TUNNEL_PODS = { "app.kubernetes.io/name": "cloudflared" };

/**
 * The controller ConfigMap entries that decide which Host and client address an app sees.
 *
 * cloudflared is the only client. Cloudflare's edge puts the visitor's address in `CF-Connecting-IP`
 * (overwriting any value the visitor sent), so the real-IP module takes it from there, and only from
 * pod addresses: the controller's NetworkPolicy admits cloudflared's pods alone on 80/443, so in practice
 * only they can set it. `use-forwarded-headers` stays off: with it on, the controller would take
 * `X-Forwarded-Host`/`-Proto`/`-Port` from the request, and cloudflared passes the visitor's own
 * values through, so a visitor could choose the Host an app sees. With it off, the controller sets
 * `Host` and `X-Forwarded-Host` from the request's Host (which Cloudflare routed on), and
 * `X-Forwarded-For`/`X-Real-IP` to the real-IP result, replacing what the visitor sent
 * (`compute-full-forwarded-for` would append to the visitor's list instead, and takes effect only
 * together with `use-forwarded-headers`).
 */
export function forwardingConfig(podCIDR: string): Record<string, string> {
  return {
    "use-forwarded-headers": "false",
    "compute-full-forwarded-for": "false",
    "enable-real-ip": "true",
    "forwarded-for-header": "CF-Connecting-IP",
    "proxy-real-ip-cidr": podCIDR,
  };
}
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
    this.alerts("traffic", INGRESS_NGINX_ALERTS);
    this.dashboard(ingressDashboard());
    const forwarding = forwardingConfig(config.network.podCIDR);
    // The forwarding keys decide what a visitor can forge; an override would quietly undo that.
    const overridden = Object.keys(props.config ?? {}).filter((k) => k in forwarding && props.config![k] !== forwarding[k]);
    if (overridden.length)
      throw new UserError(
        `homelab.config.ts: ${overridden.map((k) => `components.ingressNginx.config["${k}"]`).join(", ")}: fixed by the platform (docs/request-path.md); remove the override`,
      );
    const replicas = shape.replicas(2);
    const affinity = shape.affinity(CONTROLLER_LABELS);

    const values: IngressNginxValues = {
      controller: {
        replicaCount: replicas,
        // The chart renders its disruption budget only with more than one replica: set it only then.
        ...(replicas > 1 ? { maxUnavailable: 1, unhealthyPodEvictionPolicy: "AlwaysAllow" as const } : {}),
        ingressClassResource: { name: "nginx", default: true },
        service: { type: "ClusterIP" },
        config: {
          ...forwarding,
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
      // The admission webhook's certificate jobs are hooks that run once; the default backend is off.
      // The registry comes from `global.image` unless the controller's block names one.
      containers: [{ name: "controller", values: "controller.resources", replicas, image: { values: "controller.image", defaults: "global.image" } }],
    });

    // Only cloudflared's pods may connect: they are the only source the real-IP module should trust.
    this.allow({ name: "from-cloudflared", direction: "ingress", pods: CONTROLLER_LABELS, peers: [peer.ns("cloudflared", TUNNEL_PODS)], ports: [{ port: 80 }, { port: 443 }] });
    // The chart's controller container names its metrics port `metrics` (metrics.enabled above).
    this.scrape({ kind: "pod", name: "controller", selector: CONTROLLER_LABELS, port: "metrics", portNumber: 10254 });
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

const HOST = 'host="site.example.org",ingress="site",namespace="site"';
const requests = (status: string, values: string) => ({ series: `nginx_ingress_controller_requests{${HOST},status="${status}"}`, values });
const bucket = (le: string, values: string) => ({ series: `nginx_ingress_controller_request_duration_seconds_bucket{${HOST},le="${le}"}`, values });

/** What visitors experience, per host, measured where every request passes. */
export const INGRESS_NGINX_ALERTS: readonly AlertRule[] = [
  {
    alert: "IngressHigh5xxRatio",
    // At least 20 requests in the window, so one failed request on a quiet night does not page.
    expr:
      'sum by (host) (rate(nginx_ingress_controller_requests{status=~"5.."}[5m])) / sum by (host) (rate(nginx_ingress_controller_requests[5m])) > 0.05' +
      " and sum by (host) (increase(nginx_ingress_controller_requests[5m])) > 20",
    for: "10m",
    severity: "critical",
    summary: "Many requests to a site fail",
    description: "More than 5% of the requests to {{ $labels.host }} got a 5xx answer for 10 minutes.",
    runbook: "ingress-nginx",
    tests: {
      fires: {
        series: [requests("200", "0+10x30"), requests("502", "0+2x30")],
        at: "20m",
        labels: { host: "site.example.org" },
        annotations: { description: "More than 5% of the requests to site.example.org got a 5xx answer for 10 minutes." },
      },
      // The same share of errors on a trickle of traffic stays quiet.
      quiet: { series: [requests("200", "0+1x30"), requests("502", "0+0.5x30")], at: "20m" },
    },
  },
  {
    alert: "IngressHighLatency",
    expr: "histogram_quantile(0.95, sum by (host, le) (rate(nginx_ingress_controller_request_duration_seconds_bucket[5m]))) > 1",
    for: "15m",
    severity: "warning",
    summary: "A site answers slowly",
    description: "The 95th percentile of response times of {{ $labels.host }} has been above one second for 15 minutes.",
    runbook: "ingress-nginx",
    tests: {
      fires: {
        series: [bucket("0.5", "0x30"), bucket("1", "0x30"), bucket("2.5", "0+10x30"), bucket("+Inf", "0+10x30")],
        at: "25m",
        labels: { host: "site.example.org" },
        annotations: { description: "The 95th percentile of response times of site.example.org has been above one second for 15 minutes." },
      },
      quiet: { series: [bucket("0.5", "0+10x30"), bucket("1", "0+10x30"), bucket("2.5", "0+10x30"), bucket("+Inf", "0+10x30")], at: "25m" },
    },
  },
];

/** Every site behind the controller: the RED panels per host, then answers by status class. */
export function ingressDashboard() {
  return withItems(newDashboard("homelab-ingress", "Ingress: sites", "ingress-nginx"), [
    ...redRow("All sites", ".+"),
    new RowBuilder("Answers"),
    timeseries("Answers by status class", "reqps", [prom('sum by (status_class) (label_replace(rate(nginx_ingress_controller_requests[$__rate_interval]), "status_class", "${1}xx", "status", "(.).."))', "{{status_class}}")], 12),
    timeseries("Upstream time (p95), by host", "s", [prom("histogram_quantile(0.95, sum by (host, le) (rate(nginx_ingress_controller_response_duration_seconds_bucket[$__rate_interval])))", "{{host}}")], 12),
  ]);
}
