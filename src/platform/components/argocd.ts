import type { Construct } from "constructs";
import type { AlertRule } from "../lib/alerts.ts";
import { Component, type ChartImage } from "../lib/component.ts";
import { newDashboard, prom, RowBuilder, stat, timeseries, withItems } from "../lib/dashboards.ts";
import type { PlatformContext } from "../lib/context.ts";
import { deepMerge } from "../lib/merge.ts";
import { peer } from "../lib/network.ts";
import type { ArgoCdValues } from "../values/argo-cd.ts";
import { ROOT } from "../lib/argo.ts";
import { KSOPS_FREEFORM_VALUES } from "../../secrets/ksops.ts";

export interface ArgoCdProps {
  /** Host name label of the UI under the domain. @default "argocd" */
  readonly subdomain?: string;
  /** Argo CD's built-in `admin` login; off once a named account has a password. @default true */
  readonly localAdmin?: boolean;
  /** Named local accounts with UI login and the admin role. @default [] */
  readonly accounts?: readonly string[];
  /** Values merged over ours, e.g. the KSOPS wiring of the repo-server. @default {} */
  readonly extraValues?: Record<string, unknown>;
}

/**
 * Health of child Applications, so the root app's sync waves wait for each wave to be up before the next
 * starts (cert-manager's CRDs and webhook before the objects that use them). A child counts as healthy
 * only when it is also Synced: since Argo CD 3.4 a missing resource no longer lowers app health. The
 * root app is exempt: it syncs itself, and waiting on its own health would wait on every child at once.
 */
export function applicationHealthLua(rootApp: string): string {
  return `hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.metadata.name == "${rootApp}" then
  hs.status = "Healthy"
  return hs
end
if obj.status ~= nil and obj.status.health ~= nil then
  hs.status = obj.status.health.status
  if obj.status.health.message ~= nil then
    hs.message = obj.status.health.message
  end
end
if hs.status == "Healthy" and (obj.status == nil or obj.status.sync == nil or obj.status.sync.status ~= "Synced") then
  hs.status = "Progressing"
  hs.message = "waiting for the Application to be Synced"
end
return hs
`;
}

/**
 * Seconds after which the controller terminates a sync operation that has not finished (Argo CD's
 * default, 0, waits for ever). The root app's sync runs through every wave, so a child that never gets
 * Healthy and Synced would otherwise hold it, and every later commit, indefinitely. Terminated operations
 * count as failed: `retry` starts a new one with backoff, and a new commit starts a fresh one. Fifteen
 * minutes leaves the first bootstrap (image pulls, CRDs, the first certificates) room to finish a pass;
 * a pass cut short resumes where it stopped, because finished waves are already Healthy and Synced.
 */
export const SYNC_TIMEOUT_SECONDS = 900;

/** The image of one of Argo CD's own parts: its block, then `global.image`, then the chart's appVersion (argo-cd's templates). */
const argoImage = (part: string): ChartImage => ({ values: `${part}.image`, defaults: "global.image", tag: "appVersion" });

/** Pod labels of Argo CD's parts, as the argo-cd chart sets them (nameOverride `argocd`). */
const ARGO_PODS = {
  server: { "app.kubernetes.io/name": "argocd-server" },
  repoServer: { "app.kubernetes.io/name": "argocd-repo-server" },
  controller: { "app.kubernetes.io/name": "argocd-application-controller" },
  applicationSet: { "app.kubernetes.io/name": "argocd-applicationset-controller" },
  notifications: { "app.kubernetes.io/name": "argocd-notifications-controller" },
};

/**
 * Argo CD manages itself from its own chart: the bootstrap installs the same chart once, then this
 * Application takes over, so upgrades are a version bump in versions.yaml.
 */
export class ArgoCd extends Component {
  readonly host: string;

  constructor(scope: Construct, ctx: PlatformContext, props: ArgoCdProps = {}) {
    super(scope, "argocd", ctx, {
      wave: -3,
      layer: "gitops",
      needsApiServer: true,
      // The ApplicationSet CRD is too large for client-side apply.
      syncOptions: ["ServerSideApply=true"],
    });
    const { shape, config } = ctx;
    this.alerts("applications", ARGOCD_ALERTS);
    this.dashboard(argoCdDashboard());
    this.host = `${props.subdomain ?? "argocd"}.${config.domain}`;
    const replicas = shape.replicas(2);
    const pdb = { enabled: true, maxUnavailable: 1 };
    const resources = (cpu: string, memory: string, limit: string) => ({ requests: { cpu, memory }, limits: { memory: limit } });
    // Without Cloudflare Access (or a reasoned opt-out) the UI gets no public route: port-forward only.
    const route = this.adminUi(this.host, ARGO_PODS.server, 8080, "svc/argocd-server 8080:80");
    const accounts = props.accounts ?? [];

    const values: ArgoCdValues = {
      global: { domain: this.host, networkPolicy: { create: false } },
      crds: { install: true, keep: true },
      configs: {
        cm: {
          "resource.customizations.health.argoproj.io_Application": applicationHealthLua(ROOT),
          "timeout.reconciliation": "180s",
          "exec.enabled": "false",
          "admin.enabled": String(props.localAdmin ?? true),
          // The badge is served without authentication and can disclose the synced revision.
          "statusbadge.enabled": "false",
          ...Object.fromEntries(accounts.map((a) => [`accounts.${a}`, "login"])),
        },
        // TLS ends at ingress-nginx; the server speaks plain HTTP inside the cluster.
        params: { "server.insecure": true, "controller.sync.timeout.seconds": String(SYNC_TIMEOUT_SECONDS) },
        ...(accounts.length ? { rbac: { "policy.csv": accounts.map((a) => `g, ${a}, role:admin`).join("\n") + "\n" } } : {}),
      },
      // No SSO in a one-operator homelab; the admin password lives in the password manager.
      dex: { enabled: false },
      // Sized for a homelab's few dozen Applications; the controller holds every live object in memory.
      controller: { replicas: 1, pdb, resources: resources("100m", "384Mi", "1Gi") },
      server: {
        replicas,
        pdb,
        resources: resources("25m", "96Mi", "256Mi"),
        ingress: {
          enabled: route.mode !== "none",
          ingressClassName: "nginx",
          hostname: this.host,
          annotations: {
            "cert-manager.io/cluster-issuer": config.acme.defaultIssuer,
            // Argo CD comes before ingress-nginx, which is what marks an Ingress healthy: without this the
            // argocd Application would wait on a later wave, and go unhealthy whenever ingress-nginx is down.
            "argocd.argoproj.io/ignore-healthcheck": "true",
          },
          tls: true,
        },
      },
      // kustomize and KSOPS run inside the repo-server for every render: it peaks while rendering.
      repoServer: { replicas, pdb, resources: resources("50m", "128Mi", "1Gi") },
      applicationSet: { replicas, pdb, resources: resources("10m", "48Mi", "128Mi") },
      notifications: { resources: resources("10m", "32Mi", "128Mi") },
      redis: { resources: resources("10m", "32Mi", "128Mi") },
      // Sentinel needs a majority and the chart's hard anti-affinity three hosts: only with a quorum.
      "redis-ha": { enabled: shape.quorum },
    };
    this.release({
      chart: "argo-cd",
      releaseName: "argocd",
      values: deepMerge(values, props.extraValues ?? {}),
      freeform: [
        ...KSOPS_FREEFORM_VALUES,
        { path: "configs.params", reason: "argocd-cmd-params-cm ConfigMap: free-form settings" },
        { path: "server.ingress.annotations", reason: "Ingress annotations, empty by default" },
        // Sized in both shapes; only the one without a quorum lists it as a container.
        { path: "redis.resources", reason: "Kubernetes ResourceRequirements, empty by default" },
      ],
      // Dex is off; redis-secret-init is a hook job that runs once. With a quorum, redis-ha replaces redis.
      containers: [
        // Argo CD's own parts run one image: an empty repository or tag falls back to `global.image`, then the appVersion.
        { name: "application-controller", values: "controller.resources", image: argoImage("controller") },
        { name: "server", values: "server.resources", replicas, image: argoImage("server") },
        { name: "repo-server", values: "repoServer.resources", replicas, image: argoImage("repoServer") },
        { name: "applicationset-controller", values: "applicationSet.resources", replicas, image: argoImage("applicationSet") },
        { name: "notifications-controller", values: "notifications.resources", image: argoImage("notifications") },
        ...(shape.quorum
          ? [
              { name: "redis-ha", values: "redis-ha.redis.resources", replicas: 3, image: "redis-ha.image" },
              { name: "redis-ha haproxy", values: "redis-ha.haproxy.resources", replicas: 3, image: "redis-ha.haproxy.image" },
            ]
          : [{ name: "redis", values: "redis.resources", image: "redis.image" }]),
      ],
    });

    // Argo CD's own pods talk to each other on two services only: the repo-server's gRPC (8081) and
    // Redis (6379; 26379 is Sentinel in the redis-ha shape).
    this.allow({ name: "repo-server-from-argocd", direction: "ingress", pods: ARGO_PODS.repoServer, peers: [peer.same()], ports: [{ port: 8081 }] });
    this.allow({ name: "redis-from-argocd", direction: "ingress", peers: [peer.same()], ports: [{ port: 6379 }, { port: 26379 }] });
    this.allow({ name: "argocd-internal", direction: "egress", peers: [peer.same()], ports: [{ port: 8081 }, { port: 6379 }, { port: 26379 }] });
    // Only the repo-server fetches Git and charts (Forgejo and the chart repositories by their public
    // names, through Cloudflare). It runs KSOPS with the age key, so nothing else gets out.
    this.allow({ name: "git-and-charts", direction: "egress", pods: ARGO_PODS.repoServer, peers: [peer.internet()], ports: [{ port: 443 }] });
    // Each part's metrics port, from monitoring, and nothing else (not the server's plain-HTTP API on 8080).
    const metrics: [string, Record<string, string>, number][] = [
      ["controller", ARGO_PODS.controller, 8082],
      ["server", ARGO_PODS.server, 8083],
      ["repo-server", ARGO_PODS.repoServer, 8084],
      ["applicationset", ARGO_PODS.applicationSet, 8080],
      ["notifications", ARGO_PODS.notifications, 9001],
    ];
    // Every part's container names that port `metrics`.
    for (const [part, pods, port] of metrics) this.scrape({ kind: "pod", name: part, selector: pods, port: "metrics", portNumber: port });
  }
}

const APP = 'namespace="argocd",name="site",project="homelab"';
const appInfo = (labels: string, values: string) => ({ series: `argocd_app_info{${APP},${labels}}`, values });
const argoAnnotation = (text: string) => ({ description: text.replace("{{ $labels.name }}", "site") });

/** Argo CD is how every change reaches the cluster: a stuck or failing sync means Git no longer tells the truth. */
export const ARGOCD_ALERTS: readonly AlertRule[] = [
  {
    alert: "ArgoCdAppOutOfSync",
    expr: 'max by (name, project) (argocd_app_info{sync_status="OutOfSync"}) == 1',
    for: "30m",
    severity: "warning",
    summary: "An Argo CD application is out of sync",
    description: "Application {{ $labels.name }} has differed from Git for 30 minutes although it syncs automatically.",
    runbook: "argocd",
    tests: {
      fires: { series: [appInfo('sync_status="OutOfSync",health_status="Healthy",operation=""', "1x60")], at: "40m", labels: { name: "site", project: "homelab" }, annotations: argoAnnotation("Application {{ $labels.name }} has differed from Git for 30 minutes although it syncs automatically.") },
      quiet: { series: [appInfo('sync_status="Synced",health_status="Healthy",operation=""', "1x60")], at: "40m" },
    },
  },
  {
    alert: "ArgoCdAppDegraded",
    expr: 'max by (name, project) (argocd_app_info{health_status="Degraded"}) == 1',
    for: "15m",
    severity: "critical",
    summary: "An Argo CD application is degraded",
    description: "Application {{ $labels.name }} has been Degraded for 15 minutes: some of its resources are failing.",
    runbook: "argocd",
    tests: {
      fires: { series: [appInfo('sync_status="Synced",health_status="Degraded",operation=""', "1x30")], at: "20m", labels: { name: "site", project: "homelab" }, annotations: argoAnnotation("Application {{ $labels.name }} has been Degraded for 15 minutes: some of its resources are failing.") },
      quiet: { series: [appInfo('sync_status="Synced",health_status="Progressing",operation=""', "1x30")], at: "20m" },
    },
  },
  {
    alert: "ArgoCdSyncFailed",
    expr: 'sum by (name, project) (increase(argocd_app_sync_total{phase=~"Error|Failed"}[15m])) > 0',
    severity: "warning",
    summary: "An Argo CD sync failed",
    description: "A sync of application {{ $labels.name }} failed in the last 15 minutes.",
    runbook: "argocd",
    tests: {
      fires: {
        series: [{ series: `argocd_app_sync_total{${APP},dest_server="https://kubernetes.default.svc",dry_run="false",phase="Failed"}`, values: "0x5 1x10" }],
        at: "10m",
        labels: { name: "site", project: "homelab" },
        annotations: argoAnnotation("A sync of application {{ $labels.name }} failed in the last 15 minutes."),
      },
      quiet: {
        series: [
          { series: `argocd_app_sync_total{${APP},dest_server="https://kubernetes.default.svc",dry_run="false",phase="Failed"}`, values: "0x15" },
          { series: `argocd_app_sync_total{${APP},dest_server="https://kubernetes.default.svc",dry_run="false",phase="Succeeded"}`, values: "0+1x15" },
        ],
        at: "10m",
      },
    },
  },
  {
    alert: "ArgoCdOperationStuck",
    // Syncs are terminated after 15 minutes (controller.sync.timeout.seconds): one still running after 30 is stuck.
    expr: 'max by (name, project) (argocd_app_info{operation!=""}) == 1',
    for: "30m",
    severity: "warning",
    summary: "An Argo CD operation is stuck",
    description: "An operation on application {{ $labels.name }} has been running for 30 minutes; later commits wait behind it.",
    runbook: "argocd",
    tests: {
      fires: { series: [appInfo('sync_status="OutOfSync",health_status="Progressing",operation="sync"', "1x60")], at: "40m", labels: { name: "site", project: "homelab" }, annotations: argoAnnotation("An operation on application {{ $labels.name }} has been running for 30 minutes; later commits wait behind it.") },
      quiet: {
        // A sync that finishes within the timeout: the operation label empties again.
        series: [appInfo('sync_status="OutOfSync",health_status="Progressing",operation="sync"', "1x10 _x50"), appInfo('sync_status="Synced",health_status="Healthy",operation=""', "_x10 1x50")],
        at: "40m",
      },
    },
  },
];

/** The GitOps loop: what is in sync and healthy, what the syncs did, how long reconciling takes. */
export function argoCdDashboard() {
  return withItems(newDashboard("homelab-argocd", "Argo CD", "argocd"), [
    new RowBuilder("Applications"),
    stat("Applications", "short", [prom("count(argocd_app_info)")]),
    stat("Out of sync", "short", [prom('count(argocd_app_info{sync_status!="Synced"}) or vector(0)')]),
    stat("Not healthy", "short", [prom('count(argocd_app_info{health_status!="Healthy"}) or vector(0)')]),
    timeseries("Applications by health", "short", [prom("sum by (health_status) (argocd_app_info)", "{{health_status}}")], 12),
    new RowBuilder("Syncs"),
    timeseries("Syncs by result (per hour)", "short", [prom("sum by (phase) (increase(argocd_app_sync_total[1h]))", "{{phase}}")]),
    timeseries("Reconcile time (p95)", "s", [prom("histogram_quantile(0.95, sum by (le) (rate(argocd_app_reconcile_bucket[$__rate_interval])))", "p95")]),
    timeseries("Git requests, by kind", "reqps", [prom("sum by (request_type) (rate(argocd_git_request_total[$__rate_interval]))", "{{request_type}}")]),
  ]);
}
