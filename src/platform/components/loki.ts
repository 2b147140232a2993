import type { Construct } from "constructs";
import type { AlertRule } from "../lib/alerts.ts";
import { Component } from "../lib/component.ts";
import { logql, logs, newDashboard, prom, RowBuilder, timeseries, withItems } from "../lib/dashboards.ts";
import type { PlatformContext } from "../lib/context.ts";
import { peer } from "../lib/network.ts";
import type { LokiValues } from "../values/loki.ts";
import { STORAGE_CLASS } from "./local-path-storage.ts";

export interface LokiProps {
  /**
   * How long log lines are kept; the compactor deletes older chunks. Loki's duration syntax in hours.
   * @default "336h" (14 days)
   */
  readonly retention?: string;
  /**
   * Size of the volume that holds chunks, index and the write-ahead log; it must hold `retention` worth of
   * compressed logs plus the WAL.
   * @default "20Gi"
   */
  readonly volumeSize?: string;
}

export const LOKI = "loki";
/** Loki's HTTP port: push, query and metrics (the Service port `http-metrics`). */
export const LOKI_PORT = 3100;
/** Where Alloy pushes and Grafana queries. */
export const LOKI_URL = `http://loki.loki.svc.cluster.local:${LOKI_PORT}`;
/** The single-binary pods, as the chart labels them (release `loki`). */
export const LOKI_PODS = { "app.kubernetes.io/name": "loki", "app.kubernetes.io/component": "single-binary" };
/** Grafana's pods in the monitoring namespace (the kube-prometheus-stack grafana subchart). */
const GRAFANA_PODS = { "app.kubernetes.io/name": "grafana" };
/** Alloy's pods (the alloy chart, release `alloy`). */
const ALLOY_PODS = { "app.kubernetes.io/name": "alloy" };
/** The events collector's pods with several nodes (alloy-events.ts, which imports this file). */
const ALLOY_EVENTS = { namespace: "alloy-events", pods: { "app.kubernetes.io/name": "alloy-events" } };

/**
 * Loki as one process on the node's disk: the grafana-community chart in its monolithic mode, chunks and
 * the TSDB index on a `local-path` volume, retention enforced by the compactor. Sized for one box: one
 * tenant, no gateway, no canary, no memcached. The chart's default chunks cache alone asks for 8 GiB
 * (`chunksCache.allocatedMemory: 8192`); with chunks on a local disk the kernel's page cache already
 * does that job, and query results are cached in-process (`embedded_cache`, 64 MB).
 *
 * Always one replica, whatever the topology: filesystem storage cannot be shared between replicas, and
 * scaling out means object storage (a decision for another day, see docs/decisions/0005-log-pipeline.md).
 */
export class Loki extends Component {
  constructor(scope: Construct, ctx: PlatformContext, props: LokiProps = {}) {
    super(scope, LOKI, ctx, { wave: 1, layer: "platform" });
    const retention = props.retention ?? "336h";
    this.alerts("logs", LOKI_ALERTS);
    this.dashboard(logsDashboard());

    const values: LokiValues = {
      deploymentMode: "Monolithic",
      loki: {
        // One tenant ("fake"): Alloy and Grafana then need no X-Scope-OrgID header.
        auth_enabled: false,
        // The chart's default of 3 would wait for three ingesters that never come.
        commonConfig: { replication_factor: 1 },
        storage: { type: "filesystem" },
        schemaConfig: {
          configs: [{ from: "2025-01-01", store: "tsdb", object_store: "filesystem", schema: "v13", index: { prefix: "index_", period: "24h" } }],
        },
        limits_config: {
          retention_period: retention,
          reject_old_samples: true,
          reject_old_samples_max_age: "168h",
          // A homelab's whole output is well under 1 MB/s; a runaway pod is cut off at 4 MB/s rather than
          // filling the disk.
          ingestion_rate_mb: 4,
          ingestion_burst_size_mb: 8,
          per_stream_rate_limit: "2MB",
          per_stream_rate_limit_burst: "4MB",
          // Streams are namespace × app × container × level; more than this is a label mistake.
          max_global_streams_per_user: 5000,
          max_label_names_per_series: 15,
          // Alloy sends trace ids as structured metadata, not labels.
          allow_structured_metadata: true,
          max_query_lookback: retention,
          volume_enabled: true,
        },
        compactor: {
          working_directory: "/var/loki/compactor",
          compaction_interval: "10m",
          retention_enabled: true,
          retention_delete_delay: "2h",
          delete_request_store: "filesystem",
        },
        query_range: { cache_results: true, results_cache: { cache: { embedded_cache: { enabled: true, max_size_mb: 64, ttl: "1h" } } } },
        // No usage reports: the pod has no route to the internet anyway.
        analytics: { reporting_enabled: false },
        pattern_ingester: { enabled: false },
        tracing: { enabled: false },
      },
      // Loki never calls the API server.
      serviceAccount: { automountServiceAccountToken: false },
      singleBinary: {
        replicas: 1,
        // The rules sidecar watches ConfigMaps cluster-wide for Loki ruler rules; we declare none.
        sidecar: false,
        resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
        persistence: { enabled: true, size: props.volumeSize ?? "20Gi", storageClass: STORAGE_CLASS },
      },
      // The nginx gateway only routes between Loki's microservices and adds auth a single tenant does not use.
      gateway: { enabled: false },
      // The canary is a DaemonSet that writes and reads test lines; the alerts on Loki's own metrics do that job.
      lokiCanary: { enabled: false },
      test: { enabled: false },
      chunksCache: { enabled: false },
      resultsCache: { enabled: false },
      memcachedExporter: { enabled: false },
      sidecar: { rules: { enabled: false } },
      // The simple-scalable targets stay at zero replicas in monolithic mode.
      write: { replicas: 0 },
      read: { replicas: 0 },
      backend: { replicas: 0 },
    };
    this.release({
      chart: "loki",
      values,
      // singleBinary.image overrides loki.image field by field; the global registries override both.
      containers: [
        {
          name: "loki",
          values: "singleBinary.resources",
          replicas: 1,
          image: { values: "singleBinary.image", defaults: "loki.image", registryOverride: ["global.imageRegistry", "global.image.registry"], tag: "appVersion" },
        },
      ],
      freeform: [
        { path: "loki.schemaConfig", reason: "Loki's schema_config, empty in the chart: the store and schema version are Loki's own settings" },
        { path: "loki.limits_config", reason: "Loki's limits_config, passed through to its config file" },
        { path: "loki.compactor", reason: "Loki's compactor block, empty in the chart, passed through to its config file" },
        { path: "loki.query_range", reason: "Loki's query_range block, empty in the chart, passed through to its config file" },
        { path: "loki.analytics", reason: "Loki's analytics block, empty in the chart, passed through to its config file" },
        { path: "singleBinary.resources", reason: "Kubernetes resource requirements, empty in the chart" },
      ],
    });

    // Log lines come in from Alloy; Grafana queries; Prometheus scrapes /metrics on the same port.
    this.allow({
      name: "push-from-alloy",
      direction: "ingress",
      pods: LOKI_PODS,
      peers: [peer.ns("alloy", ALLOY_PODS), ...(ctx.shape.ha ? [peer.ns(ALLOY_EVENTS.namespace, ALLOY_EVENTS.pods)] : [])],
      ports: [{ port: LOKI_PORT }],
    });
    this.allow({ name: "query-from-grafana", direction: "ingress", pods: LOKI_PODS, peers: [peer.ns("monitoring", GRAFANA_PODS)], ports: [{ port: LOKI_PORT }] });
    // A PodMonitor rather than a ServiceMonitor: the chart puts three Services (loki, loki-headless,
    // loki-memberlist) in front of the one pod, and each would be scraped.
    this.scrape({ kind: "pod", name: "loki", selector: LOKI_PODS, port: "http-metrics", portNumber: LOKI_PORT });
    // The single binary still joins its own memberlist ring and sends queries to itself over gRPC
    // through its Services, so its own pods must reach each other.
    const self = { pods: LOKI_PODS, peers: [peer.same(LOKI_PODS)], ports: [{ port: 7946 }, { port: 9095 }, { port: LOKI_PORT }] };
    this.allow({ name: "self-ingress", direction: "ingress", ...self });
    this.allow({ name: "self-egress", direction: "egress", ...self });
  }
}

const LOKI_JOB = 'namespace="loki",job="loki/loki",pod="loki-0"';

/**
 * Loki's health from its own metrics: requests failing inside Loki and pushes it refuses (rate limits,
 * too old, too many streams), which is log lines lost.
 */
export const LOKI_ALERTS: readonly AlertRule[] = [
  {
    alert: "LokiRequestErrors",
    // 5xx answers on the push and query routes; at least a trickle of traffic so one failure does not page.
    expr:
      'sum by (namespace, route) (rate(loki_request_duration_seconds_count{status_code=~"5.."}[5m])) / sum by (namespace, route) (rate(loki_request_duration_seconds_count[5m])) > 0.05' +
      " and sum by (namespace, route) (increase(loki_request_duration_seconds_count[5m])) > 10",
    for: "15m",
    severity: "warning",
    summary: "Loki fails requests",
    description: "More than 5% of Loki's requests on route {{ $labels.route }} fail with a 5xx answer: log lines are being lost or queries fail.",
    runbook: "loki",
    tests: {
      fires: {
        series: [
          { series: `loki_request_duration_seconds_count{${LOKI_JOB},route="loki_api_v1_push",status_code="204"}`, values: "0+10x30" },
          { series: `loki_request_duration_seconds_count{${LOKI_JOB},route="loki_api_v1_push",status_code="500"}`, values: "0+5x30" },
        ],
        at: "25m",
        labels: { namespace: "loki", route: "loki_api_v1_push" },
        annotations: { description: "More than 5% of Loki's requests on route loki_api_v1_push fail with a 5xx answer: log lines are being lost or queries fail." },
      },
      quiet: {
        series: [
          { series: `loki_request_duration_seconds_count{${LOKI_JOB},route="loki_api_v1_push",status_code="204"}`, values: "0+100x30" },
          { series: `loki_request_duration_seconds_count{${LOKI_JOB},route="loki_api_v1_push",status_code="500"}`, values: "0+1x30" },
        ],
        at: "25m",
      },
    },
  },
  {
    alert: "LokiDiscardingSamples",
    // Lines Loki refuses at the door (rate limit, too old, stream limit) never reach the disk.
    expr: "sum by (namespace, reason) (rate(loki_discarded_samples_total[5m])) > 0",
    for: "15m",
    severity: "warning",
    summary: "Loki discards log lines",
    description: "Loki has been refusing log lines for 15 minutes (reason: {{ $labels.reason }}); those lines are lost.",
    runbook: "loki",
    tests: {
      fires: {
        series: [{ series: `loki_discarded_samples_total{${LOKI_JOB},reason="rate_limited",tenant="fake"}`, values: "0+20x30" }],
        at: "25m",
        labels: { namespace: "loki", reason: "rate_limited" },
        annotations: { description: "Loki has been refusing log lines for 15 minutes (reason: rate_limited); those lines are lost." },
      },
      quiet: { series: [{ series: `loki_discarded_samples_total{${LOKI_JOB},reason="rate_limited",tenant="fake"}`, values: "5x30" }], at: "25m" },
    },
  },
  {
    alert: "LokiCompactorNotRunning",
    // Retention is the compactor's job: without a run, the volume only grows. A zero timestamp is a
    // compactor that has not finished its first run since it started, not a stale one.
    expr: "min by (namespace) (time() - (loki_boltdb_shipper_compact_tables_operation_last_successful_run_timestamp_seconds > 0)) > 3 * 3600",
    for: "15m",
    severity: "warning",
    summary: "Loki's compactor has not run for hours",
    description: "Loki's compactor has not finished a run for more than 3 hours: old logs are not deleted and its volume keeps growing.",
    runbook: "loki",
    tests: {
      fires: {
        series: [{ series: `loki_boltdb_shipper_compact_tables_operation_last_successful_run_timestamp_seconds{${LOKI_JOB}}`, values: "60x300" }],
        at: "4h",
        labels: { namespace: "loki" },
      },
      // A run every ten minutes keeps the timestamp fresh.
      quiet: { series: [{ series: `loki_boltdb_shipper_compact_tables_operation_last_successful_run_timestamp_seconds{${LOKI_JOB}}`, values: "0+60x300" }], at: "4h" },
    },
  },
];

/** The logs of the whole homelab, and the health of the pipeline that carries them. */
export function logsDashboard() {
  const pods = 'job="kubernetes/pods"';
  return withItems(newDashboard("homelab-logs", "Logs", "loki"), [
    new RowBuilder("Log lines"),
    timeseries("Lines, by namespace", "short", [logql(`sum by (namespace) (count_over_time({${pods}} [$__auto]))`, "{{namespace}}")], 12),
    timeseries("Lines, by level", "short", [logql(`sum by (level) (count_over_time({${pods}} [$__auto]))`, "{{level}}")], 12),
    logs("Errors, everywhere", `{${pods}, level=~"error|fatal"}`),
    logs("Kubernetes events (warnings)", '{job="kubernetes/events"} | json | type="Warning"'),
    new RowBuilder("Pipeline"),
    timeseries("Received by Loki", "Bps", [prom("sum(rate(loki_distributor_bytes_received_total[$__rate_interval]))", "bytes/s")]),
    timeseries("Refused by Loki, by reason", "short", [prom("sum by (reason) (rate(loki_discarded_samples_total[$__rate_interval]))", "{{reason}}")]),
    timeseries("Dropped by Alloy, by pod", "short", [prom("sum by (pod) (rate(loki_write_dropped_entries_total[$__rate_interval]))", "{{pod}}")]),
  ]);
}
