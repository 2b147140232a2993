import type { Construct } from "constructs";
import type { AppConfig } from "../../config/schema.ts";
import type { AlertRule } from "../lib/alerts.ts";
import { Component } from "../lib/component.ts";
import { exactly, logsRow, newDashboard, prom, redRow, RowBuilder, stat, timeseries, withItems } from "../lib/dashboards.ts";
import type { PlatformContext } from "../lib/context.ts";
import { peer, PROMETHEUS, PROMETHEUS_API } from "../lib/network.ts";
import { deployment, pdb, service, serviceAccount } from "../lib/workload.ts";
import { appClaimName } from "../../backup/plan.ts";
import { POLICY_ANNOTATIONS } from "../../policy/annotations.ts";
import { STORAGE_CLASS } from "./local-path-storage.ts";

/**
 * An operator's own web app, from a few lines of config: Deployment, Service, Ingress with a cert-manager
 * certificate, NetworkPolicies and a disruption budget, with the secure defaults of `lib/workload.ts`.
 */
export class WebApp extends Component {
  constructor(scope: Construct, ctx: PlatformContext, app: AppConfig) {
    super(scope, app.name, ctx, { wave: 1, layer: "apps" });
    this.alerts("availability", appAlerts(app.name, app.maxBuildAgeDays));
    this.dashboard(appDashboard(app.name, app.host));
    const { shape, config } = ctx;
    const ns = app.name;
    const selector = { "app.kubernetes.io/name": app.name };
    // Only where there is a Prometheus to read.
    const readsPrometheus = app.readsPrometheus && config.components.monitoring !== undefined;
    const labels = this.commonLabels({ ...selector, "app.kubernetes.io/version": versionLabel(app.tag) });
    // Metrics on a port of their own: a container port Prometheus scrapes, which the Service does not list.
    const metricsPort = app.metricsPath !== false && app.metricsPort !== undefined && app.metricsPort !== app.port ? app.metricsPort : undefined;
    const env = { ...app.env, ...(readsPrometheus && { PROMETHEUS_URL: PROMETHEUS_API.url }), ...(metricsPort !== undefined && { METRICS_PORT: String(metricsPort) }) };
    const image = app.tag.startsWith("sha256:") ? `${app.image}@${app.tag}` : `${app.image}:${app.tag}`;
    // The app's secrets go the platform's way: declared here, their ciphertext copied next to the
    // kustomization and decrypted by KSOPS inside Argo CD.
    const at = `apps[${config.apps.indexOf(app)}].secrets`;
    const secrets = app.secrets.map((s, j) => ({ ...s, secretName: this.secret(s.name, s.keys, `${at}[${j}]`) }));
    const secretEnv = secrets.filter((s) => s.env).flatMap((s) => s.keys.map((key) => ({ name: key, secret: s.secretName, key })));
    const secretFiles = secrets.filter((s) => s.mountPath !== undefined);

    this.add(serviceAccount(app.name, ns, labels));
    // Persistent data: one claim on the default StorageClass. The build's coverage check makes sure a
    // backup schedule takes it with its data, or that the config exempts it with a reason.
    const claim = app.storage ? appClaimName(app.name) : undefined;
    const exemption = claim ? config.backup?.exemptions.find((e) => e.claim === `${ns}/${claim}`)?.reason : undefined;
    if (app.storage && claim) {
      this.add({
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: claim, namespace: ns, labels, ...(exemption && { annotations: { [POLICY_ANNOTATIONS.backupExempt]: exemption } }) },
        spec: { storageClassName: STORAGE_CLASS, accessModes: [app.storage.accessMode], resources: { requests: { storage: app.storage.size } } },
      });
    }
    const workload = deployment(
      {
        name: app.name,
        namespace: ns,
        labels,
        selector,
        preferredReplicas: app.replicas,
        ...(app.metricsPath === false && { annotations: { [POLICY_ANNOTATIONS.scrapeExempt]: "the app serves no metrics (metricsPath: false in homelab.config.ts); AppDown watches it through kube-state-metrics" } }),
        container: {
          name: app.name,
          image,
          ports: [{ name: "http", containerPort: app.port }, ...(metricsPort !== undefined ? [{ name: "metrics", containerPort: metricsPort }] : [])],
          env,
          secretEnv,
          resources: app.resources,
          probe: { path: app.probePath, port: "http", ...(app.readyPath && { readyPath: app.readyPath }) },
          volumeMounts: [
            { name: "tmp", mountPath: app.tmpDir },
            ...secretFiles.map((s) => ({ name: `secret-${s.name}`, mountPath: s.mountPath!, readOnly: true })),
            ...(app.storage ? [{ name: "data", mountPath: app.storage.mountPath }] : []),
          ],
        },
        volumes: [
          { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
          // Readable by the pod's group (fsGroup) only, and only the declared keys.
          ...secretFiles.map((s) => ({ name: `secret-${s.name}`, secret: { secretName: s.secretName, defaultMode: 0o440, items: s.keys.map((key) => ({ key, path: key })) } })),
          ...(claim ? [{ name: "data", persistentVolumeClaim: { claimName: claim } }] : []),
        ],
        // An exempt volume's data stays out of every backup (the claim object itself is still backed up).
        ...(exemption && { podAnnotations: { "backup.velero.io/backup-volumes-excludes": "data" } }),
      },
      shape,
    );
    if (app.storage) {
      // A local volume is mounted by one node and one pod at a time: one replica, replaced rather than surged.
      const spec = (workload as unknown as { spec: Record<string, unknown> }).spec;
      spec.replicas = 1;
      spec.strategy = { type: "Recreate" };
    }
    this.add(workload);
    this.add(service(app.name, ns, labels, selector, [{ name: "http", port: 80, targetPort: "http" }]));
    this.add(pdb(app.name, ns, labels, selector, shape));
    // An admin UI is public only behind Cloudflare Access (or a reasoned opt-out); else no Ingress at all.
    const routed = app.admin ? this.adminUi(app.host, selector, app.port, `svc/${app.name} 8080:80`).mode !== "none" : true;
    if (routed) {
      this.add({
        apiVersion: "networking.k8s.io/v1",
        kind: "Ingress",
        metadata: { name: app.name, namespace: ns, labels, annotations: { "cert-manager.io/cluster-issuer": config.acme.defaultIssuer } },
        spec: {
          ingressClassName: "nginx",
          tls: [{ hosts: [app.host], secretName: `${app.name}-tls` }],
          rules: [{ host: app.host, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: app.name, port: { name: "http" } } } }] } }],
        },
      });
    }
    // adminUi() already admitted ingress-nginx when the route is public.
    if (!app.admin) this.servedByIngress(selector, app.port);
    if (readsPrometheus)
      this.allow({ name: "to-prometheus", direction: "egress", pods: selector, peers: [peer.ns(PROMETHEUS.namespace, PROMETHEUS.labels)], ports: [{ port: PROMETHEUS_API.port }] });
    if (app.metricsPath) this.scrape({ kind: "pod", name: app.name, selector, ...(metricsPort !== undefined ? { port: "metrics", portNumber: metricsPort } : { port: "http", portNumber: app.port }), path: app.metricsPath });
  }
}

/** A label value from a tag: at most 63 characters, ending alphanumeric (a cut can end on '.' or '-'). */
function versionLabel(tag: string): string {
  return tag.replace(/^sha256:/, "").slice(0, 63).replace(/[^A-Za-z0-9]+$/, "");
}

/**
 * An app is down when none of its pods is available, measured by kube-state-metrics so that it holds for
 * apps without a metrics endpoint too.
 */
export function appAlerts(name: string, maxBuildAgeDays?: number): readonly AlertRule[] {
  const available = `kube_deployment_status_replicas_available{namespace="${name}",deployment="${name}"}`;
  return [
    {
      alert: "AppDown",
      expr: `max by (namespace, deployment) (${available}) < 1`,
      for: "5m",
      severity: "critical",
      summary: "An app has no available pod",
      description: "App {{ $labels.deployment }} has had no available pod for 5 minutes: its site answers 503.",
      runbook: "apps",
      tests: {
        fires: {
          series: [{ series: available.replace("}", ',job="kube-state-metrics"}'), values: "1x5 0x15" }],
          at: "15m",
          labels: { namespace: name, deployment: name },
          annotations: { description: `App ${name} has had no available pod for 5 minutes: its site answers 503.` },
        },
        // A rolling update that dips for less than five minutes stays quiet.
        quiet: { series: [{ series: available.replace("}", ',job="kube-state-metrics"}'), values: "1x5 0x3 1x10" }], at: "15m" },
      },
    },
    ...(maxBuildAgeDays === undefined ? [] : [appStale(name, maxBuildAgeDays)]),
  ];
}

/**
 * Every build of the app changes its image tag, so Kubernetes makes a new ReplicaSet; the newest one's
 * creation time is when the last build reached the cluster. Older than the scheduled rebuild means the
 * pipeline (runner, registry, Argo CD) is broken somewhere, even though the app still answers.
 */
function appStale(name: string, days: number): AlertRule {
  const created = (t: string) => ({ series: `kube_replicaset_created{namespace="${name}",replicaset="${name}-7d9f8c6b5",job="kube-state-metrics"}`, values: `${t}x120` });
  const day = 86400;
  return {
    alert: "AppStale",
    expr: `time() - max by (namespace) (kube_replicaset_created{namespace="${name}"}) > ${days * day}`,
    for: "1h",
    severity: "warning",
    summary: "An app has not been redeployed for too long",
    description: `The newest build of {{ $labels.namespace }} reached the cluster more than ${days} days ago: the pipeline that rebuilds it is broken.`,
    runbook: "apps",
    tests: {
      // promtool starts its clock at 0: a ReplicaSet created at -(days + 1) days is that old from the start.
      fires: {
        series: [created(String(-(days + 1) * day))],
        at: "2h",
        labels: { namespace: name },
        annotations: { description: `The newest build of ${name} reached the cluster more than ${days} days ago: the pipeline that rebuilds it is broken.` },
      },
      quiet: { series: [created(String(-(days - 1) * day))], at: "2h" },
    },
  };
}

/**
 * One app: the same RED panels as every site (measured at the ingress, whatever the app exports), its
 * pods, and its logs. The uid is `app-<name>`, cut to Grafana's 40 characters.
 */
export function appDashboard(name: string, host: string) {
  return withItems(newDashboard(`app-${name}`.slice(0, 40), `App: ${name}`, name), [
    ...redRow(name, exactly([host])),
    new RowBuilder(`${name}: pods`),
    stat("Pods available", "short", [prom(`sum(kube_deployment_status_replicas_available{namespace="${name}",deployment="${name}"})`)]),
    stat("Restarts (1h)", "short", [prom(`sum(increase(kube_pod_container_status_restarts_total{namespace="${name}"}[1h]))`)]),
    timeseries("Memory, by pod", "bytes", [prom(`sum by (pod) (container_memory_working_set_bytes{namespace="${name}",container!=""})`, "{{pod}}")], 16),
    ...logsRow(name),
  ]);
}
