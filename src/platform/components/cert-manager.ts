import type { Construct } from "constructs";
import type { AlertRule } from "../lib/alerts.ts";
import { Component, type ChartImage } from "../lib/component.ts";
import { newDashboard, prom, RowBuilder, timeseries, withItems } from "../lib/dashboards.ts";
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
    this.alerts("certificates", CERT_MANAGER_ALERTS);
    this.dashboard(certificatesDashboard());
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
      // startupapicheck is a post-install hook job that runs once.
      containers: [
        { name: "controller", values: "resources", replicas, image: certManagerImage("image") },
        { name: "webhook", values: "webhook.resources", replicas, image: certManagerImage("webhook.image") },
        { name: "cainjector", values: "cainjector.resources", replicas, image: certManagerImage("cainjector.image") },
      ],
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
    // The controller, webhook and cainjector all serve metrics on 9402, a container port named http-metrics.
    this.scrape({ kind: "pod", name: "cert-manager", selector: { "app.kubernetes.io/instance": "cert-manager" }, port: "http-metrics", portNumber: 9402 });
  }
}

/** cert-manager composes `imageRegistry/imageNamespace/<block>.name`, a block's `repository` replacing all three; an empty tag is the appVersion. */
function certManagerImage(block: string): ChartImage {
  return { values: block, registryDefault: "imageRegistry", namespace: "imageNamespace", tag: "appVersion" };
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

const CERT = 'name="site-tls",namespace="site"';

/** Certificates are what visitors see first: an expired one takes the site down for every browser. */
export const CERT_MANAGER_ALERTS: readonly AlertRule[] = [
  {
    alert: "CertificateExpiringSoon",
    // cert-manager renews 30 days before expiry; 14 days left means renewal has failed for two weeks.
    expr: "min by (namespace, name) (certmanager_certificate_expiration_timestamp_seconds - time()) < 14 * 86400",
    for: "1h",
    severity: "warning",
    summary: "A certificate expires in less than 14 days",
    description: "Certificate {{ $labels.namespace }}/{{ $labels.name }} has not been renewed and expires within 14 days.",
    runbook: "cert-manager",
    tests: {
      fires: {
        series: [{ series: `certmanager_certificate_expiration_timestamp_seconds{${CERT}}`, values: "864000x90" }],
        at: "70m",
        labels: { namespace: "site", name: "site-tls" },
        annotations: { description: "Certificate site/site-tls has not been renewed and expires within 14 days." },
      },
      quiet: { series: [{ series: `certmanager_certificate_expiration_timestamp_seconds{${CERT}}`, values: "5184000x90" }], at: "70m" },
    },
  },
  {
    alert: "CertificateNotReady",
    expr: 'max by (namespace, name) (certmanager_certificate_ready_status{condition=~"False|Unknown"}) == 1',
    for: "15m",
    severity: "warning",
    summary: "A certificate is not ready",
    description: "Certificate {{ $labels.namespace }}/{{ $labels.name }} has not been Ready for 15 minutes: its Ingress serves an old or no certificate.",
    runbook: "cert-manager",
    tests: {
      fires: {
        series: [
          { series: `certmanager_certificate_ready_status{${CERT},condition="False"}`, values: "1x30" },
          { series: `certmanager_certificate_ready_status{${CERT},condition="True"}`, values: "0x30" },
        ],
        at: "20m",
        labels: { namespace: "site", name: "site-tls" },
        annotations: { description: "Certificate site/site-tls has not been Ready for 15 minutes: its Ingress serves an old or no certificate." },
      },
      quiet: {
        series: [
          { series: `certmanager_certificate_ready_status{${CERT},condition="False"}`, values: "0x30" },
          { series: `certmanager_certificate_ready_status{${CERT},condition="True"}`, values: "1x30" },
        ],
        at: "20m",
      },
    },
  },
  {
    alert: "CertManagerACMEErrors",
    // A share rather than any error: Let's Encrypt answers the odd badNonce with a 400 that cert-manager retries.
    expr: 'sum by (host) (rate(certmanager_http_acme_client_request_count{status=~"4..|5.."}[15m])) / sum by (host) (rate(certmanager_http_acme_client_request_count[15m])) > 0.5',
    for: "30m",
    severity: "warning",
    summary: "Most ACME requests fail",
    description: "More than half of cert-manager's requests to {{ $labels.host }} failed for 30 minutes: no certificate can be issued or renewed.",
    runbook: "cert-manager",
    tests: {
      fires: {
        series: [
          { series: 'certmanager_http_acme_client_request_count{host="acme-v02.api.letsencrypt.org",method="POST",path="/acme/new-order",scheme="https",status="400"}', values: "0+5x60" },
          { series: 'certmanager_http_acme_client_request_count{host="acme-v02.api.letsencrypt.org",method="POST",path="/acme/new-order",scheme="https",status="200"}', values: "0+1x60" },
        ],
        at: "50m",
        labels: { host: "acme-v02.api.letsencrypt.org" },
        annotations: { description: "More than half of cert-manager's requests to acme-v02.api.letsencrypt.org failed for 30 minutes: no certificate can be issued or renewed." },
      },
      quiet: {
        series: [
          { series: 'certmanager_http_acme_client_request_count{host="acme-v02.api.letsencrypt.org",method="POST",path="/acme/new-order",scheme="https",status="400"}', values: "0+1x60" },
          { series: 'certmanager_http_acme_client_request_count{host="acme-v02.api.letsencrypt.org",method="POST",path="/acme/new-order",scheme="https",status="200"}', values: "0+20x60" },
        ],
        at: "50m",
      },
    },
  },
];

/** Every certificate's remaining life and readiness, and how the ACME conversation goes. */
export function certificatesDashboard() {
  return withItems(newDashboard("homelab-certificates", "Certificates", "cert-manager"), [
    new RowBuilder("Certificates"),
    timeseries("Time left, by certificate", "s", [prom("min by (namespace, name) (certmanager_certificate_expiration_timestamp_seconds - time())", "{{namespace}}/{{name}}")], 12),
    timeseries("Not ready", "short", [prom('sum by (namespace, name) (certmanager_certificate_ready_status{condition!="True"}) > 0', "{{namespace}}/{{name}}")], 12),
    new RowBuilder("ACME"),
    timeseries("ACME requests, by status", "reqps", [prom("sum by (status) (rate(certmanager_http_acme_client_request_count[$__rate_interval]))", "{{status}}")], 24),
  ]);
}
