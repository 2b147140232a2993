import { createHash } from "node:crypto";
import type { Construct } from "constructs";
import { stringify } from "yaml";
import type { AlertRule } from "../lib/alerts.ts";
import { Component } from "../lib/component.ts";
import { imageRef, type PlatformContext } from "../lib/context.ts";
import type { AdminUi } from "../lib/access.ts";
import { peer } from "../lib/network.ts";
import { deployment, pdb, service, serviceAccount } from "../lib/workload.ts";
import { CONTROLLER_LABELS, INGRESS_SERVICE } from "./ingress-nginx.ts";

export interface CloudflaredProps {
  /** @default requests 10m/64Mi, memory limit 256Mi */
  readonly resources?: { requests: { cpu: string; memory: string }; limits: { memory: string; cpu?: string } };
}

const METRICS_PORT = 2000;
export const CREDENTIALS_SECRET = "cloudflared-credentials";

export const CLOUDFLARED_PODS = { "app.kubernetes.io/name": "cloudflared" };

/**
 * The tunnel's ingress rules, first match wins. Admin UIs come first: a host without a public route is
 * answered 404 by the tunnel itself; a host behind Cloudflare Access is proxied only with a valid Access
 * token for its application (cloudflared checks the JWT against the team's keys and the AUD tag), so a
 * request that skipped the Access policy at the edge is refused here too. ACME challenges for those hosts
 * still pass (the path rule comes before them): the edge needs a Bypass policy for that path.
 */
export function tunnelIngress(domain: string, staging: boolean, adminUis: readonly AdminUi[]): Record<string, unknown>[] {
  // TLS all the way to ingress-nginx, verified against the requested host name, so the certificates
  // cert-manager issues are the ones that protect the traffic inside the cluster. Staging certificates
  // chain to an untrusted root: verification is off while that issuer is in use.
  const tls = staging ? { matchSNItoHost: true, noTLSVerify: true } : { matchSNItoHost: true };
  const routes = [...adminUis].map((u) => u.route).sort((a, b) => a.host.localeCompare(b.host));
  return [
    ...routes.filter((r) => r.mode === "none").map((r) => ({ hostname: r.host, service: "http_status:404" })),
    // Let's Encrypt's HTTP-01 challenges over plain HTTP: before a certificate exists there is nothing to verify.
    { hostname: `*.${domain}`, path: "^/\\.well-known/acme-challenge/", service: INGRESS_SERVICE.http },
    ...routes.flatMap((r) =>
      r.mode === "access"
        ? [{ hostname: r.host, service: INGRESS_SERVICE.https, originRequest: { ...tls, access: { required: true, teamName: r.teamName, audTag: [r.audTag] } } }]
        : [],
    ),
    { hostname: `*.${domain}`, service: INGRESS_SERVICE.https, originRequest: tls },
    { service: "http_status:404" },
  ];
}

/**
 * The cluster end of the `*.<domain>` tunnel: cloudflared dials out to Cloudflare and hands every request to
 * ingress-nginx. Nothing listens on the LAN. Tunnel credentials come from an encrypted Secret.
 * The workload is added by `route()`, once the platform knows every admin UI.
 */
export class Cloudflared extends Component {
  private readonly resources: CloudflaredProps["resources"];

  constructor(scope: Construct, ctx: PlatformContext, props: CloudflaredProps = {}) {
    super(scope, "cloudflared", ctx, { wave: 0, layer: "edge" });
    this.alerts("tunnel", CLOUDFLARED_ALERTS);
    this.resources = props.resources;
    this.secret(CREDENTIALS_SECRET, ["credentials.json"]);
    const selector = CLOUDFLARED_PODS;
    this.allow({
      name: "tunnel-to-cloudflare",
      direction: "egress",
      pods: selector,
      peers: [peer.internet()],
      // 7844 carries the tunnel (QUIC on UDP, HTTP/2 on TCP as fallback); 443 also fetches the Access signing keys.
      ports: [{ port: 7844, protocol: "UDP" }, { port: 7844, protocol: "TCP" }, { port: 443 }],
    });
    this.allow({
      name: "to-ingress-nginx",
      direction: "egress",
      pods: selector,
      peers: [peer.ns("ingress-nginx", CONTROLLER_LABELS)],
      ports: [{ port: 443 }, { port: 80 }],
    });
    this.scrape({ kind: "service", name: "cloudflared", selector, port: "metrics", portNumber: METRICS_PORT });
  }

  /** Adds the tunnel config and the workload, with the platform's admin UIs routed as `access` decides. */
  route(adminUis: readonly AdminUi[]): void {
    const { config, shape } = this.ctx;
    const ctx = this.ctx;
    const props = { resources: this.resources };
    const name = "cloudflared";
    const selector = CLOUDFLARED_PODS;
    const labels = this.commonLabels({ ...selector, "app.kubernetes.io/component": "tunnel" });
    const secret = CREDENTIALS_SECRET;

    const tunnelConfig = stringify(
      {
        tunnel: config.tunnels.cluster.name,
        "credentials-file": "/etc/cloudflared/creds/credentials.json",
        metrics: `0.0.0.0:${METRICS_PORT}`,
        "no-autoupdate": true,
        ingress: tunnelIngress(config.domain, config.acme.defaultIssuer === "letsencrypt-staging", adminUis),
      },
      { lineWidth: 0 },
    );
    this.add({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: name, labels },
      data: { "config.yaml": tunnelConfig },
    });
    this.add(serviceAccount(name, name, labels));
    this.add(
      deployment(
        {
          name,
          namespace: name,
          labels,
          selector,
          preferredReplicas: 2,
          // Roll the pods when the tunnel config changes (the render adds the credentials' checksum).
          podAnnotations: { "checksum/config": createHash("sha256").update(tunnelConfig).digest("hex").slice(0, 16) },
          container: {
            name,
            image: imageRef(ctx.versions, "cloudflared"),
            args: ["tunnel", "--config", "/etc/cloudflared/config/config.yaml", "run"],
            ports: [{ name: "metrics", containerPort: METRICS_PORT }],
            resources: props.resources ?? { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } },
            probe: { path: "/ready", port: "metrics" },
            volumeMounts: [
              { name: "config", mountPath: "/etc/cloudflared/config", readOnly: true },
              { name: "creds", mountPath: "/etc/cloudflared/creds", readOnly: true },
            ],
          },
          volumes: [
            { name: "config", configMap: { name } },
            { name: "creds", secret: { secretName: secret } },
          ],
        },
        shape,
      ),
    );
    this.add(service(name, name, labels, selector, [{ name: "metrics", port: METRICS_PORT, targetPort: "metrics" }]));
    this.add(pdb(name, name, labels, selector, shape));
  }
}

const TUNNEL_POD = 'namespace="cloudflared",pod="cloudflared-7d9f8-abcde"';

/** The tunnel is the only way in: when it is down every site is down, whatever the pods behind it do. */
export const CLOUDFLARED_ALERTS: readonly AlertRule[] = [
  {
    alert: "CloudflaredTunnelDown",
    // No cloudflared pod answers scrapes, or none holds a connection to Cloudflare's edge.
    expr: 'absent(up{namespace="cloudflared"} == 1) or sum(cloudflared_tunnel_ha_connections) < 1',
    for: "5m",
    severity: "critical",
    summary: "The Cloudflare tunnel is down",
    description: "No cloudflared pod is up with a connection to Cloudflare: every site of the homelab is unreachable.",
    runbook: "cloudflared",
    tests: {
      fires: { series: [{ series: `up{${TUNNEL_POD},job="cloudflared"}`, values: "0x15" }], at: "10m", labels: {} },
      quiet: {
        series: [
          { series: `up{${TUNNEL_POD},job="cloudflared"}`, values: "1x15" },
          { series: `cloudflared_tunnel_ha_connections{${TUNNEL_POD},job="cloudflared"}`, values: "4x15" },
        ],
        at: "10m",
      },
    },
  },
  {
    alert: "CloudflaredNoHealthyConnections",
    expr: 'max by (namespace, pod) (cloudflared_tunnel_ha_connections) < 1',
    for: "10m",
    severity: "warning",
    summary: "A cloudflared pod has no connection to Cloudflare",
    description: "cloudflared pod {{ $labels.pod }} has held no tunnel connection for 10 minutes; the tunnel runs on the other replicas, if any.",
    runbook: "cloudflared",
    tests: {
      fires: {
        series: [{ series: `cloudflared_tunnel_ha_connections{${TUNNEL_POD},job="cloudflared"}`, values: "4x5 0x20" }],
        at: "20m",
        labels: { namespace: "cloudflared", pod: "cloudflared-7d9f8-abcde" },
        annotations: { description: "cloudflared pod cloudflared-7d9f8-abcde has held no tunnel connection for 10 minutes; the tunnel runs on the other replicas, if any." },
      },
      quiet: { series: [{ series: `cloudflared_tunnel_ha_connections{${TUNNEL_POD},job="cloudflared"}`, values: "4x5 2x20" }], at: "20m" },
    },
  },
];
