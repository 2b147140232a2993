import type { Construct } from "constructs";
import type { AlertRule } from "../lib/alerts.ts";
import { alloyConfig, block, expr, ref, type AlloyBlock } from "../lib/alloy-syntax.ts";
import { Component, type ChartImage } from "../lib/component.ts";
import type { PlatformContext } from "../lib/context.ts";
import { peer } from "../lib/network.ts";
import type { AlloyValues } from "../values/alloy.ts";
import { LOKI, LOKI_PODS, LOKI_PORT, LOKI_URL } from "./loki.ts";

export const ALLOY = "alloy";
/** Alloy's HTTP port: its UI, /metrics and /-/ready (the Service port `http-metrics`). */
export const ALLOY_PORT = 12345;
export const ALLOY_PODS = { "app.kubernetes.io/name": "alloy" };
/** Where the kubelet writes container logs: `<namespace>_<pod>_<uid>/<container>/<n>.log`. */
export const POD_LOG_DIR = "/var/log/pods";
/** Alloy's own state on the node: file positions and the events' resource version. */
export const ALLOY_DATA_DIR = "/var/lib/alloy";

/** The ConfigMap holding the generated configuration, and its key. */
export const CONFIG_MAP = "alloy-config";
export const CONFIG_KEY = "config.alloy";

/** Where the alloy chart takes its two images: `global.image.registry` replaces the registry; an empty Alloy tag is the appVersion. */
export const ALLOY_IMAGES = {
  alloy: { values: "image", registryOverride: ["global.image.registry"], tag: "appVersion" },
  configReloader: { values: "configReloader.image", registryOverride: ["global.image.registry"] },
} as const satisfies Record<string, ChartImage>;

/** The `job` label of each log source; dashboards and LogQL select on it. */
export const LOG_JOBS = { pods: "kubernetes/pods", events: "kubernetes/events" } as const;

/**
 * A JSON log line's level, whatever the library called it, mapped onto one short list so the `level`
 * label stays bounded: pino's numbers (30 = info), `warning`, `WARN` and `Info` all land on six values;
 * anything else sets no label. Go template run by `stage.template` on the extracted `level`.
 */
export const LEVEL_TEMPLATE =
  "{{ if .Value }}{{ $l := ToLower .Value }}" +
  '{{ if eq $l "trace" "10" }}trace{{ else if eq $l "debug" "20" }}debug{{ else if eq $l "info" "30" }}info' +
  '{{ else if eq $l "warn" "warning" "40" }}warn{{ else if eq $l "error" "50" }}error{{ else if eq $l "fatal" "critical" "60" }}fatal{{ end }}{{ end }}';

/**
 * The Alloy configuration, generated. Two sources, one destination:
 * - pod logs: the files the kubelet writes on this node (discovered through the API, read from disk),
 *   CRI-decoded, JSON lines parsed for their level (a label, bounded) and trace and span ids
 *   (structured metadata: unique per request, so never labels);
 * - Kubernetes events, read from the API.
 * Labels stay few and bounded: job, namespace, app, container, level, and the constant cluster.
 * Pod and node names change with every rollout and move to structured metadata; the file name is dropped.
 */
export function alloyPipeline(opts: {
  cluster: string;
  lokiUrl: string;
  /** Which sources this Alloy runs: every node's pod logs, the cluster's events. @default both */
  sources?: { readonly pods: boolean; readonly events: boolean };
}): string {
  const sources = opts.sources ?? { pods: true, events: true };
  if (!sources.pods && !sources.events) throw new Error("alloyPipeline: no source to ship");
  const rule = (body: AlloyBlock["body"]) => block("rule", undefined, body);
  const podBlocks: AlloyBlock[] = [
    block(
      "discovery.kubernetes",
      "pods",
      [["role", "pod"], block("selectors", undefined, [["role", "pod"], ["field", expr('"spec.nodeName=" + sys.env("HOSTNAME")')]])],
      "The pods of this node only: every node runs its own Alloy, which reads that node's files.",
    ),
    block("discovery.relabel", "pod_logs", [
      ["targets", ref("discovery.kubernetes.pods.targets")],
      rule([["source_labels", ["__meta_kubernetes_namespace"]], ["target_label", "namespace"]]),
      rule([["source_labels", ["__meta_kubernetes_pod_name"]], ["target_label", "pod"]]),
      rule([["source_labels", ["__meta_kubernetes_pod_container_name"]], ["target_label", "container"]]),
      rule([["source_labels", ["__meta_kubernetes_pod_node_name"]], ["target_label", "node"]]),
      // app.kubernetes.io/name, else the older `app` label.
      rule([
        ["source_labels", ["__meta_kubernetes_pod_label_app_kubernetes_io_name", "__meta_kubernetes_pod_label_app"]],
        ["separator", ";"],
        ["regex", "^;*([^;]+)(;.*)?$"],
        ["replacement", "$1"],
        ["target_label", "app"],
      ]),
      rule([["target_label", "job"], ["replacement", LOG_JOBS.pods]]),
      rule([
        ["source_labels", ["__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"]],
        ["separator", "/"],
        ["target_label", "__path__"],
        ["replacement", `${POD_LOG_DIR}/*$1/*.log`],
      ]),
    ]),
    block("local.file_match", "pod_logs", [["path_targets", ref("discovery.relabel.pod_logs.output")]]),
    block("loki.source.file", "pod_logs", [
      ["targets", ref("local.file_match.pod_logs.targets")],
      ["forward_to", [ref("loki.process.pod_logs.receiver")]],
    ]),
    block("loki.process", "pod_logs", [
      ["forward_to", [ref("loki.write.default.receiver")]],
      block("stage.cri", undefined, []),
      // Lines that are not JSON pass through untouched.
      block("stage.json", undefined, [["expressions", { level: "level || severity || lvl", trace_id: "trace_id || traceId || traceID", span_id: "span_id || spanId" }]]),
      block("stage.template", undefined, [["source", "level"], ["template", LEVEL_TEMPLATE]]),
      block("stage.labels", undefined, [["values", { level: "" }]]),
      block("stage.structured_metadata", undefined, [["values", { trace_id: "", span_id: "", pod: "", node: "" }]]),
      block("stage.label_drop", undefined, [["values", ["filename", "pod", "node"]]]),
    ]),
  ];
  const blocks: AlloyBlock[] = [
    block("logging", undefined, [["level", "info"], ["format", "json"]], "Alloy's own logs are JSON lines too, so they go through the same pipeline."),
    ...(sources.pods ? podBlocks : []),
    ...(sources.events
      ? [
          block(
            "loki.source.kubernetes_events",
            "events",
            [
              ["job_name", LOG_JOBS.events],
              ["log_format", "json"],
              ["forward_to", [ref("loki.write.default.receiver")]],
            ],
            sources.pods
              ? "One node, one Alloy: it ships the cluster's events too (several nodes: the alloy-events Deployment alone does)."
              : "The cluster's events, from this one replica only: one copy of each (docs/decisions/0005-log-pipeline.md).",
          ),
        ]
      : []),
    block("loki.write", "default", [
      block("endpoint", undefined, [["url", `${opts.lokiUrl}/loki/api/v1/push`]]),
      ["external_labels", { cluster: opts.cluster }],
    ]),
  ];
  return alloyConfig(blocks);
}

/**
 * Grafana Alloy as a DaemonSet shipping logs to Loki, its configuration generated above. It reads the
 * node's pod log files (read-only) and keeps its positions on the node, so a restarted or upgraded pod
 * resumes where the old one stopped instead of sending every file again.
 */
export class Alloy extends Component {
  constructor(scope: Construct, ctx: PlatformContext) {
    // hostPath volumes are refused by the baseline and restricted Pod Security levels: the namespace
    // holds only this DaemonSet, whose host paths are on the policy's host-access allowlist.
    super(scope, ALLOY, ctx, { wave: 1, layer: "platform", podSecurity: "privileged", needsApiServer: ALLOY_PODS });
    this.alerts("pipeline", ALLOY_ALERTS);
    // The cluster's events are one stream however many nodes there are: with several, one Alloy
    // Deployment of its own ships them (alloy-events.ts) and these per-node pods do not.
    const events = !ctx.shape.ha;

    this.add({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: CONFIG_MAP, namespace: this.name, labels: this.commonLabels(ALLOY_PODS) },
      data: { [CONFIG_KEY]: alloyPipeline({ cluster: ctx.config.name, lokiUrl: LOKI_URL, sources: { pods: true, events } }) },
    });

    const values: AlloyValues = {
      global: { podSecurityContext: { seccompProfile: { type: "RuntimeDefault" } } },
      // The monitoring.grafana.com PodLogs CRD is for the podlogs source, which we do not use.
      crds: { create: false },
      alloy: {
        // Our own ConfigMap rather than the chart's `configMap.content`: the chart runs that through
        // Helm's `tpl`, which would try to execute the pipeline's own Go templates (the level mapping).
        configMap: { create: false, name: CONFIG_MAP, key: CONFIG_KEY },
        clustering: { enabled: false },
        storagePath: `${ALLOY_DATA_DIR}/data`,
        listenPort: ALLOY_PORT,
        enableReporting: false,
        // Only the pod log folder, not all of /var/log (the chart's `varlog` mount).
        mounts: {
          varlog: false,
          dockercontainers: false,
          extra: [
            { name: "pod-logs", mountPath: POD_LOG_DIR, readOnly: true },
            { name: "alloy-data", mountPath: ALLOY_DATA_DIR },
          ],
        },
        // The kubelet writes log files as root, mode 0640: reading them takes uid 0, but no capability
        // (the owner's read bit is enough) and nothing writable but the data folder.
        securityContext: {
          runAsUser: 0,
          runAsNonRoot: false,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        },
        resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
      },
      // Exactly what the sources read: pods (discovery, on this node) and, on one node, events. The chart's
      // default also grants secrets and configmaps cluster-wide, and nodes, which this pipeline never reads.
      rbac: {
        create: true,
        rules: [
          { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
          ...(events ? [{ apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] }] : []),
        ],
        clusterRules: [],
      },
      configReloader: { resources: { requests: { cpu: "10m", memory: "50Mi" }, limits: { memory: "64Mi" } } },
      controller: {
        type: "daemonset",
        // A node agent: evicting it loses that node's logs.
        priorityClassName: "system-node-critical",
        tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
        volumes: {
          extra: [
            { name: "pod-logs", hostPath: { path: POD_LOG_DIR, type: "Directory" } },
            { name: "alloy-data", hostPath: { path: ALLOY_DATA_DIR, type: "DirectoryOrCreate" } },
          ],
        },
      },
      service: { enabled: true },
      serviceMonitor: { enabled: false },
    };
    this.release({
      chart: "alloy",
      values,
      containers: [
        { name: "alloy", values: "alloy.resources", replicas: "per-node", image: ALLOY_IMAGES.alloy },
        { name: "config-reloader", values: "configReloader.resources", replicas: "per-node", image: ALLOY_IMAGES.configReloader },
      ],
      freeform: [
        { path: "global.podSecurityContext", reason: "Kubernetes PodSecurityContext, empty in the chart" },
        { path: "alloy.securityContext", reason: "Kubernetes SecurityContext, empty in the chart" },
        { path: "alloy.resources", reason: "Kubernetes resource requirements, empty in the chart" },
        { path: "configReloader.resources.limits", reason: "Kubernetes resource limits; the chart sets requests only" },
      ],
    });

    this.allow({ name: "push-to-loki", direction: "egress", pods: ALLOY_PODS, peers: [peer.ns(LOKI, LOKI_PODS)], ports: [{ port: LOKI_PORT }] });
    // One target per node's pod (a PodMonitor), so each pod's own pipeline health is seen.
    this.scrape({ kind: "pod", name: "alloy", selector: ALLOY_PODS, port: "http-metrics", portNumber: ALLOY_PORT });
  }
}

const ALLOY_POD = 'namespace="alloy",job="alloy/alloy",instance="10.244.0.7:12345",pod="alloy-x7k2p"';

/** The shipper's health: a component of the pipeline that stopped working, and lines Loki did not take. */
export const ALLOY_ALERTS: readonly AlertRule[] = [
  {
    alert: "AlloyComponentUnhealthy",
    expr: 'sum by (namespace, pod) (alloy_component_controller_running_components{health_type!="healthy"}) > 0',
    for: "15m",
    severity: "warning",
    summary: "A part of the log pipeline is unhealthy",
    description: "Alloy pod {{ $labels.pod }} has had unhealthy components for 15 minutes: some logs are not collected.",
    runbook: "alloy",
    tests: {
      fires: {
        series: [
          { series: `alloy_component_controller_running_components{${ALLOY_POD},health_type="healthy"}`, values: "7x30" },
          { series: `alloy_component_controller_running_components{${ALLOY_POD},health_type="unhealthy"}`, values: "1x30" },
        ],
        at: "20m",
        labels: { namespace: "alloy", pod: "alloy-x7k2p" },
        annotations: { description: "Alloy pod alloy-x7k2p has had unhealthy components for 15 minutes: some logs are not collected." },
      },
      quiet: {
        series: [
          { series: `alloy_component_controller_running_components{${ALLOY_POD},health_type="healthy"}`, values: "8x30" },
          { series: `alloy_component_controller_running_components{${ALLOY_POD},health_type="unhealthy"}`, values: "0x30" },
        ],
        at: "20m",
      },
    },
  },
  {
    alert: "AlloyLogsDropped",
    // loki.write gives up on a batch after its retries: those lines are gone.
    expr: "sum by (namespace, pod) (rate(loki_write_dropped_entries_total[5m])) > 0",
    for: "10m",
    severity: "warning",
    summary: "Log lines are being dropped on the way to Loki",
    description: "Alloy pod {{ $labels.pod }} has been dropping log lines it could not deliver to Loki after retrying; those lines are lost.",
    runbook: "alloy",
    tests: {
      fires: {
        series: [{ series: `loki_write_dropped_entries_total{${ALLOY_POD},component_id="loki.write.default",host="loki.loki.svc.cluster.local:3100"}`, values: "0+50x30" }],
        at: "20m",
        labels: { namespace: "alloy", pod: "alloy-x7k2p" },
        annotations: { description: "Alloy pod alloy-x7k2p has been dropping log lines it could not deliver to Loki after retrying; those lines are lost." },
      },
      quiet: {
        series: [{ series: `loki_write_dropped_entries_total{${ALLOY_POD},component_id="loki.write.default",host="loki.loki.svc.cluster.local:3100"}`, values: "12x30" }],
        at: "20m",
      },
    },
  },
  {
    alert: "AlloyLokiRequestsFailing",
    // Failed pushes are retried, so this warns before lines are dropped.
    expr:
      'sum by (namespace, pod) (rate(loki_write_request_duration_seconds_count{status_code!~"2.."}[5m])) / sum by (namespace, pod) (rate(loki_write_request_duration_seconds_count[5m])) > 0.1',
    for: "15m",
    severity: "warning",
    summary: "Alloy cannot push to Loki",
    description: "More than 10% of Alloy pod {{ $labels.pod }}'s pushes to Loki fail; it retries, then drops lines.",
    runbook: "alloy",
    tests: {
      fires: {
        series: [
          { series: `loki_write_request_duration_seconds_count{${ALLOY_POD},component_id="loki.write.default",host="loki.loki.svc.cluster.local:3100",status_code="204"}`, values: "0+10x30" },
          { series: `loki_write_request_duration_seconds_count{${ALLOY_POD},component_id="loki.write.default",host="loki.loki.svc.cluster.local:3100",status_code="503"}`, values: "0+5x30" },
        ],
        at: "25m",
        labels: { namespace: "alloy", pod: "alloy-x7k2p" },
        annotations: { description: "More than 10% of Alloy pod alloy-x7k2p's pushes to Loki fail; it retries, then drops lines." },
      },
      quiet: {
        series: [
          { series: `loki_write_request_duration_seconds_count{${ALLOY_POD},component_id="loki.write.default",host="loki.loki.svc.cluster.local:3100",status_code="204"}`, values: "0+10x30" },
          { series: `loki_write_request_duration_seconds_count{${ALLOY_POD},component_id="loki.write.default",host="loki.loki.svc.cluster.local:3100",status_code="503"}`, values: "0x30" },
        ],
        at: "25m",
      },
    },
  },
];
