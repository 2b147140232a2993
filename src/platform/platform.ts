/**
 * The composition root. It reads like the architecture picture: GitOps first, then the edge, the platform
 * services and the apps. Each line is one component = one namespace = one ArgoCD Application = one folder.
 */
import { cdk8s } from "./lib/packages.ts";
import type { HomelabConfig, Versions } from "../config/schema.ts";
import { ArgoCd } from "./components/argocd.ts";
import { CertManager } from "./components/cert-manager.ts";
import { Cloudflared } from "./components/cloudflared.ts";
import { IngressNginx } from "./components/ingress-nginx.ts";
import { LocalPathStorage } from "./components/local-path-storage.ts";
import { Alloy } from "./components/alloy.ts";
import { AlloyEvents } from "./components/alloy-events.ts";
import { Loki } from "./components/loki.ts";
import { Monitoring } from "./components/monitoring.ts";
import { WebApp } from "./components/web-app.ts";
import { BackupCanary } from "./components/backup-canary.ts";
import { Velero } from "./components/velero.ts";
import { backupPlan, type BackupPlan } from "../backup/plan.ts";
import { unknownAccessHosts, type AdminUi } from "./lib/access.ts";
import { GitOpsRoot } from "./lib/argo.ts";
import type { Component } from "./lib/component.ts";
import { contextFor, type PlatformContext } from "./lib/context.ts";
import { platformDashboard, platformOverview, renderDashboards, type DashboardDef } from "./lib/dashboards.ts";
import { argoCdKsopsValues } from "./lib/ksops.ts";
import { UserError } from "../errors.ts";
import { PROMETHEUS } from "./lib/network.ts";

const { App } = cdk8s;
type App = InstanceType<typeof App>;

/** The component (and namespace) of the monitoring stack. */
export const MONITORING = PROMETHEUS.namespace;

export interface Platform {
  readonly app: App;
  readonly ctx: PlatformContext;
  readonly components: readonly Component[];
  readonly root: GitOpsRoot;
  /** Every admin UI and how it is reached (lib/access.ts); the build summary lists them. */
  readonly adminUis: readonly AdminUi[];
  /** What is backed up how often (undefined without `backup` in the config); the coverage check reads it. */
  readonly backup?: BackupPlan;
  /** Every dashboard: the components' own and the platform overview; the build parses their queries. */
  readonly dashboards: readonly DashboardDef[];
}

export function platform(config: HomelabConfig, versions: Versions): Platform {
  const app = new App();
  const ctx = contextFor(config, versions);
  const c = config.components;

  const ingress = new IngressNginx(app, ctx, { config: c.ingressNginx.config });
  const tunnel = new Cloudflared(app, ctx, c.cloudflared.resources ? { resources: c.cloudflared.resources } : {});
  const backup = backupPlan(config);
  const monitoring = c.monitoring ? new Monitoring(app, ctx, { config: c.monitoring }) : undefined;
  const components: Component[] = [
    // GitOps: Argo CD syncs everything below from the gitops folder in Forgejo, decrypting with KSOPS.
    new ArgoCd(app, ctx, { subdomain: c.argocd.subdomain, localAdmin: c.argocd.localAdmin, accounts: c.argocd.accounts, extraValues: argoCdKsopsValues(ctx) }),
    // Edge: *.<domain> → Cloudflare tunnel → cloudflared → ingress-nginx; cert-manager issues every certificate.
    new CertManager(app, ctx),
    // Platform: persistent volumes on the node's own disk, of the `local` type Velero can back up.
    new LocalPathStorage(app, ctx),
    // Prometheus, Alertmanager (alerts to ntfy) and Grafana; every component declares what it scrapes and alerts on.
    ...(monitoring ? [monitoring] : []),
    ingress,
    tunnel,
    // Observability: Alloy on every node ships pod logs to Loki, and the cluster's events: on one node
    // that node's Alloy, on several one Alloy of its own, so each event is shipped once.
    new Loki(app, ctx),
    new Alloy(app, ctx),
    ...(ctx.shape.ha ? [new AlloyEvents(app, ctx)] : []),
    // Backups to off-host S3-compatible storage, and the canary whose restore the weekly drill proves.
    ...(backup ? [new Velero(app, ctx, backup), new BackupCanary(app, ctx)] : []),
    // Apps: the operator's own, one line of config each (the docs/status site is one of them).
    ...config.apps.map((a) => new WebApp(app, ctx, a)),
  ];

  // Alert rules and monitors reach the cluster with the monitoring stack that brings their CRDs and
  // evaluates them; without it the build still parses and unit-tests every rule.
  if (monitoring) {
    for (const x of components) {
      const holds = x.alertGroups.length > 0 || x.scrapeTargets.length > 0;
      // A folder holding a kind whose CRD is not installed yet never syncs, and later waves wait for it.
      if (holds && x !== monitoring && x.props.wave <= monitoring.props.wave)
        throw new Error(`${x.name}: sync wave ${x.props.wave} is not after the monitoring stack's (${monitoring.props.wave}), yet its folder holds PrometheusRules or monitors whose CRDs that stack installs`);
      x.renderAlertRules();
      x.renderMonitors();
    }
    // Prometheus may reach exactly the ports the components declared.
    monitoring.scrapeFrom(components.flatMap((x) => x.scrapeTargets));
    monitoring.queriedBy(config.apps.filter((a) => a.readsPrometheus).map((a) => ({ namespace: a.name, pods: { "app.kubernetes.io/name": a.name } })));
  }
  // Dashboards likewise go to Grafana's namespace once Grafana exists; each component owns its own.
  const dashboards = [...components.flatMap((x) => x.dashboards), platformDashboard(platformOverview(components.map((x) => x.name)))];
  if (monitoring) renderDashboards(monitoring, dashboards);

  // ingress-nginx may reach exactly the backends the Ingresses name.
  ingress.routeTo(components.flatMap((x) => x.ingressBackends));
  // The tunnel routes admin UIs only behind Cloudflare Access (or a reasoned opt-out).
  const adminUis = components.flatMap((x) => x.adminUis);
  const unknown = unknownAccessHosts(config, adminUis);
  if (unknown.length)
    throw new UserError(
      `homelab.config.ts: ${unknown.map((u) => `${u.path}: ${u.host} is not an admin UI of this homelab`).join("; ")} (admin UIs: ${adminUis.map((u) => u.route.host).join(", ")})`,
    );
  tunnel.route(adminUis);

  const root = new GitOpsRoot(app, ctx, components);
  return { app, ctx, components, root, adminUis, dashboards, ...(backup && { backup }) };
}
