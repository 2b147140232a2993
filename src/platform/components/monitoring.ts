import type { Construct } from "constructs";
import type { MonitoringConfig } from "../../config/schema.ts";
import { CONTROL_PLANE_METRICS } from "../../cluster/control-plane.ts";
import { isPublic } from "../lib/access.ts";
import { alertmanagerConfig } from "../lib/alertmanager.ts";
import { Component, type ChartImage, type LocatedScrapeTarget } from "../lib/component.ts";
import type { PlatformContext } from "../lib/context.ts";
import { peer, PROMETHEUS, PROMETHEUS_API } from "../lib/network.ts";
import type { KubePrometheusStackValues } from "../values/kube-prometheus-stack.ts";
import { STORAGE_ALERTS, STORAGE_CLASS } from "./local-path-storage.ts";
import { CHART_RULES_REPLACED, MONITORING_ALERTS } from "./monitoring-alerts.ts";

export interface MonitoringProps {
  readonly config: MonitoringConfig;
}

/** Fixed data source uids dashboards refer to (docs/decisions, INTERFACES between components). */
export const DATASOURCE_UIDS = { prometheus: "prometheus", loki: "loki" } as const;
export const LOKI_URL = "http://loki.loki.svc.cluster.local:3100";
/** The Secrets the stack reads; their ciphertext lives in secrets/monitoring/. */
export const MONITORING_SECRETS = { ntfy: "ntfy", grafanaAdmin: "grafana-admin", remoteWrite: "remote-write" } as const;
/** Where Alertmanager finds the ntfy token: the operator mounts `alertmanagerSpec.secrets` there. */
export const NTFY_TOKEN_FILE = `/etc/alertmanager/secrets/${MONITORING_SECRETS.ntfy}/token`;

/**
 * etcd alerts that assume a quorum of members: with one control-plane node there is no majority to lose,
 * and a member "down" is the whole control plane down, which the API server alerts already say. They are
 * dropped from the chart's rules below three control-plane nodes and come back with three.
 */
/** The namespace node-exporter runs in, alone: the only part of the stack that needs Pod Security `privileged`. */
export const NODE_EXPORTER = "node-exporter";

export const QUORUM_ETCD_ALERTS = ["etcdInsufficientMembers", "etcdMembersDown", "etcdNoLeader", "etcdHighNumberOfLeaderChanges"] as const;

/** An image of kube-prometheus-stack: `global.imageRegistry` replaces every block's registry; the operator's and Grafana's empty tags are an appVersion. */
function kpsImage(block: string, appVersionTag = false): ChartImage {
  return { values: block, registryOverride: ["global.imageRegistry"], ...(appVersionTag && { tag: "appVersion" as const }) };
}

const PODS = {
  prometheus: PROMETHEUS.labels,
  alertmanager: { "app.kubernetes.io/name": "alertmanager" },
  grafana: { "app.kubernetes.io/name": "grafana" },
};
const GRAFANA_PORT = 3000;

/** Ports the stack's own parts serve metrics or APIs on, inside the namespace. */
const OWN_PORTS = [
  { port: 9090 }, // Prometheus
  { port: 9093 }, // Alertmanager
  { port: GRAFANA_PORT },
  { port: 8080 }, // kube-state-metrics, the config reloaders
  { port: 8081 }, // kube-state-metrics' own telemetry
  { port: 10250 }, // the operator's HTTPS metrics
];

/**
 * kube-prometheus-stack in namespace `monitoring`: the operator, one Prometheus and one Alertmanager on
 * local-path volumes sized for one box, Grafana (admin UI), node-exporter and kube-state-metrics.
 * Prometheus selects the monitors and rules of every namespace; each component declares its own through
 * `scrape()` and `alerts()`, and Prometheus' egress is derived from those targets (`scrapeTargets`).
 */
export class Monitoring extends Component {
  constructor(scope: Construct, ctx: PlatformContext, props: MonitoringProps) {
    super(scope, "monitoring", ctx, {
      // Before every component whose folder holds a ServiceMonitor, PodMonitor or PrometheusRule: those
      // kinds exist only once this chart's CRDs are in (platform.ts checks the order).
      wave: -4,
      layer: "platform",
      // Pod Security `restricted` (the default): every pod left here runs as non-root with no privilege
      // escalation, all capabilities dropped and the RuntimeDefault seccomp profile (the chart's and its
      // subcharts' defaults, and the operator's own containers). node-exporter, which needs the host,
      // lives in a namespace of its own (NODE_EXPORTER).
      needsApiServer: true,
      // The CRDs are far larger than client-side apply's annotation limit.
      syncOptions: ["ServerSideApply=true"],
      // The chart puts the Services that find the control plane's static pods into kube-system.
      alsoIn: [
        { namespace: "kube-system", reason: "Services selecting the kubeadm static pods (controller manager, scheduler, etcd) and kube-proxy for scraping" },
        { namespace: NODE_EXPORTER, reason: "node-exporter's DaemonSet, Service and ServiceMonitor (the subchart's namespaceOverride), alone at Pod Security privileged" },
      ],
    });
    // node-exporter reads the host's /proc, /sys and root filesystem in the host's network and PID
    // namespaces (policy: DEFAULT_HOST_PATH_ALLOWLIST); Pod Security has no narrower level that admits it,
    // so it gets that level in a namespace where nothing else runs. Its pods use the host's network, which
    // NetworkPolicies do not govern: Prometheus reaches it on the node's port 9100 (prometheus-to-nodes),
    // and the namespace's deny-all covers anything else that would ever run there.
    this.partNamespace(NODE_EXPORTER, "privileged");
    const { shape, config: homelab } = ctx;
    const cfg = props.config;
    this.alerts("prometheus", MONITORING_ALERTS);
    // Volumes are measured by the kubelet and kube-state-metrics, which this stack scrapes; the rules
    // live here because the storage component syncs before the PrometheusRule kind exists.
    this.alerts("storage", STORAGE_ALERTS);

    this.secret(MONITORING_SECRETS.ntfy, ["token"]);
    this.secret(MONITORING_SECRETS.grafanaAdmin, ["admin-user", "admin-password"]);
    if (cfg.remoteWrite) this.secret(MONITORING_SECRETS.remoteWrite, ["username", "password"]);

    const host = `${cfg.grafana.subdomain}.${homelab.domain}`;
    const route = this.adminUi(host, PODS.grafana, GRAFANA_PORT, "svc/monitoring-grafana 3000:80");
    const quorum = shape.controlPlaneNodes >= 3;
    const res = (cpu: string, memory: string, limit: string) => ({ requests: { cpu, memory }, limits: { memory: limit } });
    const claim = (size: string) => ({ spec: { storageClassName: STORAGE_CLASS, accessModes: ["ReadWriteOnce"] as ["ReadWriteOnce"], resources: { requests: { storage: size } } } });
    const retentionGiB = Number(cfg.retention.size.replace("GiB", ""));
    const cp = CONTROL_PLANE_METRICS;
    const https = { https: true, insecureSkipVerify: true };

    const values: KubePrometheusStackValues = {
      fullnameOverride: "monitoring",
      crds: { enabled: true },
      defaultRules: { create: true, disabled: Object.fromEntries([...CHART_RULES_REPLACED, ...(quorum ? [] : QUORUM_ETCD_ALERTS)].map((a) => [a, true])) },
      alertmanager: {
        config: alertmanagerConfig({ server: cfg.ntfy.server, topic: cfg.ntfy.topic, tokenFile: NTFY_TOKEN_FILE, ...(cfg.ntfy.heartbeatUrl ? { heartbeatUrl: cfg.ntfy.heartbeatUrl } : {}) }),
        alertmanagerSpec: {
          replicas: 1,
          retention: "120h",
          secrets: [MONITORING_SECRETS.ntfy],
          storage: { volumeClaimTemplate: claim("1Gi") },
          resources: res("10m", "48Mi", "128Mi"),
        },
      },
      grafana: {
        fullnameOverride: "monitoring-grafana",
        admin: { existingSecret: MONITORING_SECRETS.grafanaAdmin, userKey: "admin-user", passwordKey: "admin-password" },
        sidecar: {
          // logs renders every component's dashboards as ConfigMaps labelled so, into this namespace.
          dashboards: { enabled: true, label: "grafana_dashboard", labelValue: "1", searchNamespace: "monitoring" },
          datasources: { enabled: true, defaultDatasourceEnabled: true, uid: DATASOURCE_UIDS.prometheus },
          resources: res("10m", "64Mi", "128Mi"),
        },
        additionalDataSources: [{ name: "Loki", uid: DATASOURCE_UIDS.loki, type: "loki", url: LOKI_URL, access: "proxy", editable: false }],
        // On the cluster's default StorageClass (local-path).
        persistence: { enabled: true, type: "pvc", size: "1Gi" },
        // The chown init container runs as root; local-path folders are writable by the pod's group already.
        initChownData: { enabled: false },
        // The chart's helm-test pod has no security context; it is no part of the running stack.
        testFramework: { enabled: false },
        // One ReadWriteOnce volume: the old pod must let go of it before the new one starts.
        deploymentStrategy: { type: "Recreate" },
        resources: res("50m", "128Mi", "256Mi"),
        "grafana.ini": { server: { root_url: isPublic(route) ? `https://${host}` : "http://localhost:3000" } },
      },
      // kubeadm's control plane, at the addresses src/cluster/control-plane.ts makes the node serve.
      kubeControllerManager: {
        enabled: true,
        service: { enabled: true, port: cp.controllerManager.port, targetPort: cp.controllerManager.port },
        serviceMonitor: { enabled: true, ...https },
      },
      kubeScheduler: {
        enabled: true,
        service: { enabled: true, port: cp.scheduler.port, targetPort: cp.scheduler.port },
        serviceMonitor: { enabled: true, ...https },
      },
      kubeEtcd: {
        enabled: true,
        service: { enabled: true, port: cp.etcd.port, targetPort: cp.etcd.port },
        serviceMonitor: { enabled: true, scheme: cp.etcd.scheme },
      },
      kubeProxy: {
        enabled: true,
        service: { enabled: true, port: cp.kubeProxy.port, targetPort: cp.kubeProxy.port },
        serviceMonitor: { enabled: true, https: false },
      },
      "kube-state-metrics": { fullnameOverride: "kube-state-metrics", resources: res("10m", "64Mi", "192Mi") },
      "prometheus-node-exporter": { namespaceOverride: NODE_EXPORTER, fullnameOverride: "node-exporter", resources: res("10m", "32Mi", "64Mi") },
      prometheusOperator: {
        fullnameOverride: "prometheus-operator",
        // Rules are checked by promtool at build time; the webhook would need a certificate job and an
        // API-server-to-pod flow for no further safety.
        admissionWebhooks: { enabled: false },
        resources: res("20m", "64Mi", "192Mi"),
        prometheusConfigReloader: { resources: res("5m", "16Mi", "48Mi") },
      },
      prometheus: {
        prometheusSpec: {
          replicas: 1,
          retention: cfg.retention.time,
          retentionSize: cfg.retention.size.replace("GiB", "GB"),
          // Every namespace's monitors and rules, not only those labelled with this release.
          ruleSelectorNilUsesHelmValues: false,
          serviceMonitorSelectorNilUsesHelmValues: false,
          podMonitorSelectorNilUsesHelmValues: false,
          probeSelectorNilUsesHelmValues: false,
          scrapeConfigSelectorNilUsesHelmValues: false,
          // Room for the retention plus the write-ahead log and compaction.
          storageSpec: { volumeClaimTemplate: claim(`${Math.ceil(retentionGiB * 1.25)}Gi`) },
          resources: res("100m", "512Mi", "1536Mi"),
          remoteWrite: cfg.remoteWrite
            ? [
                {
                  url: cfg.remoteWrite.url,
                  basicAuth: {
                    username: { name: MONITORING_SECRETS.remoteWrite, key: "username" },
                    password: { name: MONITORING_SECRETS.remoteWrite, key: "password" },
                  },
                },
              ]
            : [],
        },
      },
    };
    this.release({
      chart: "kube-prometheus-stack",
      values,
      containers: [
        { name: "prometheus", values: "prometheus.prometheusSpec.resources", image: kpsImage("prometheus.prometheusSpec.image") },
        { name: "alertmanager", values: "alertmanager.alertmanagerSpec.resources", image: kpsImage("alertmanager.alertmanagerSpec.image") },
        // The operator adds its config reloader to the Prometheus and the Alertmanager pod.
        { name: "config-reloader", values: "prometheusOperator.prometheusConfigReloader.resources", replicas: 2, image: kpsImage("prometheusOperator.prometheusConfigReloader.image", true) },
        { name: "operator", values: "prometheusOperator.resources", image: kpsImage("prometheusOperator.image", true) },
        // An empty grafana tag is the grafana subchart's appVersion.
        { name: "grafana", values: "grafana.resources", image: kpsImage("grafana.image", true) },
        // The dashboards and the data sources sidecars share one resources block and one image.
        { name: "grafana-sidecars", values: "grafana.sidecar.resources", replicas: 2, image: kpsImage("grafana.sidecar.image") },
        // Both subcharts run `v<appVersion>` for an empty tag, under the parent's `global.imageRegistry` when set;
        // the parent turns on node-exporter's distroless variant.
        { name: "kube-state-metrics", values: "kube-state-metrics.resources", image: { ...kpsImage("kube-state-metrics.image", true), appVersionPrefix: "v" } },
        { name: "node-exporter", values: "prometheus-node-exporter.resources", replicas: "per-node", image: { ...kpsImage("prometheus-node-exporter.image", true), appVersionPrefix: "v", variant: { field: "distroless", suffix: "-distroless" } } },
      ],
      freeform: [
        { path: "alertmanager.config", reason: "Alertmanager's configuration file, generated by lib/alertmanager.ts and checked by amtool" },
        { path: "defaultRules.disabled", reason: "alert names of the chart's own rules, empty by default" },
        { path: "alertmanager.alertmanagerSpec.storage", reason: "a StorageSpec of the Alertmanager CRD, empty by default" },
        { path: "prometheus.prometheusSpec.storageSpec", reason: "a StorageSpec of the Prometheus CRD, empty by default" },
        { path: "grafana.fullnameOverride", reason: "documented in the grafana chart's values.yaml but commented out there" },
        { path: "grafana.grafana\\.ini.server.root_url", reason: "grafana.ini: free-form Grafana settings" },
      ],
    });

    // Inside the namespace: Prometheus scrapes the stack's own parts and sends alerts to Alertmanager;
    // Grafana queries both.
    this.allow({ name: "from-prometheus", direction: "ingress", peers: [peer.same(PODS.prometheus)], ports: OWN_PORTS });
    this.allow({ name: "prometheus-to-own", direction: "egress", pods: PODS.prometheus, peers: [peer.same()], ports: OWN_PORTS });
    this.allow({ name: "from-grafana", direction: "ingress", pods: PODS.prometheus, peers: [peer.same(PODS.grafana)], ports: [{ port: 9090 }] });
    this.allow({ name: "alertmanager-from-grafana", direction: "ingress", pods: PODS.alertmanager, peers: [peer.same(PODS.grafana)], ports: [{ port: 9093 }] });
    this.allow({ name: "grafana-to-prometheus", direction: "egress", pods: PODS.grafana, peers: [peer.same(PODS.prometheus), peer.same(PODS.alertmanager)], ports: [{ port: 9090 }, { port: 9093 }] });
    this.allow({ name: "grafana-to-loki", direction: "egress", pods: PODS.grafana, peers: [peer.ns("loki", { "app.kubernetes.io/name": "loki" })], ports: [{ port: 3100 }] });
    // Notifications leave for ntfy (and the heartbeat service) over HTTPS.
    this.allow({ name: "alertmanager-to-ntfy", direction: "egress", pods: PODS.alertmanager, peers: [peer.internet()], ports: [{ port: 443 }] });
    if (cfg.remoteWrite) this.allow({ name: "remote-write", direction: "egress", pods: PODS.prometheus, peers: [peer.internet()], ports: [{ port: 443 }] });
    // The node itself: the kubelet (and cAdvisor), node-exporter on the host network, the API server and
    // the kubeadm static pods at the ports the host layer binds them to.
    const nodePorts = [10250, 9100, 6443, cp.controllerManager.port, cp.scheduler.port, cp.etcd.port, cp.kubeProxy.port];
    this.allow({
      name: "prometheus-to-nodes",
      direction: "egress",
      pods: PODS.prometheus,
      peers: homelab.nodes.map((n) => peer.cidr(`${n.address}/32`)),
      ports: nodePorts.map((port) => ({ port })),
    });
  }

  /** Apps that read Prometheus' API (`readsPrometheus`) may reach its port, from their own pods only. */
  queriedBy(apps: readonly { namespace: string; pods: Record<string, string> }[]): void {
    for (const a of apps)
      this.allow({ name: `prometheus-from-${a.namespace}`, direction: "ingress", pods: PODS.prometheus, peers: [peer.ns(a.namespace, a.pods)], ports: [{ port: PROMETHEUS_API.port }] });
  }

  /**
   * Prometheus' egress to every scrape target the components declared, one flow per target: exactly the
   * pods and the port that target's own NetworkPolicy admits.
   */
  scrapeFrom(targets: readonly LocatedScrapeTarget[]): void {
    for (const t of targets) {
      this.allow({
        name: `scrape-${t.namespace}-${t.name}`,
        direction: "egress",
        pods: PODS.prometheus,
        peers: [peer.ns(t.namespace, t.pods ?? t.selector)],
        ports: [{ port: t.portNumber }],
      });
    }
  }
}
