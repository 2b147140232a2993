/**
 * Dashboards as code. A component declares its Grafana dashboards next to its objects
 * (`Component.dashboard()`), built with the grafana-foundation-sdk builders and the presets below; the
 * platform renders every dashboard as a ConfigMap labelled `grafana_dashboard: "1"` in the monitoring
 * namespace, where Grafana's dashboard sidecar loads it. Every query is parsed at build time: PromQL with
 * Prometheus' lezer grammar, LogQL with Grafana's, so a typo fails the build naming the dashboard and panel.
 */
import { parser as logqlParser } from "@grafana/lezer-logql";
import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { grafana } from "./packages.ts";
import type { Issue } from "../../errors.ts";
import type { K8sObject } from "../../model/k8s.ts";
import { promqlSyntaxError } from "./alerts.ts";
import { querySyntax, syntaxError } from "./query-syntax.ts";

const { DashboardBuilder, RowBuilder } = grafana.dashboard;
type DashboardBuilder = InstanceType<typeof DashboardBuilder>;
type RowBuilder = InstanceType<typeof RowBuilder>;
const LogsPanel = grafana.logs.PanelBuilder;
type LogsPanel = InstanceType<typeof LogsPanel>;
const LokiQuery = grafana.loki.DataqueryBuilder;
type LokiQuery = InstanceType<typeof LokiQuery>;
const PromQuery = grafana.prometheus.DataqueryBuilder;
type PromQuery = InstanceType<typeof PromQuery>;
const StatPanel = grafana.stat.PanelBuilder;
type StatPanel = InstanceType<typeof StatPanel>;
const TimeseriesPanel = grafana.timeseries.PanelBuilder;
type TimeseriesPanel = InstanceType<typeof TimeseriesPanel>;

export { DashboardBuilder, RowBuilder };

/** The data sources Grafana is provisioned with (by the monitoring component), by their fixed uids. */
export const DATASOURCES = {
  prometheus: { type: "prometheus", uid: "prometheus" },
  loki: { type: "loki", uid: "loki" },
} as const;

/** Label and value the Grafana dashboard sidecar looks for on ConfigMaps. */
export const DASHBOARD_LABEL = { grafana_dashboard: "1" } as const;

/** A dashboard a component owns, built. */
export interface DashboardDef {
  readonly component: string;
  readonly uid: string;
  readonly title: string;
  readonly json: dashboard.Dashboard;
}

/** A new dashboard with the homelab's defaults: its uid, a tag per owner, six hours, refreshed every minute. */
export function newDashboard(uid: string, title: string, owner: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .tags(["homelab", owner])
    .timezone("browser")
    .time({ from: "now-6h", to: "now" })
    .refresh("1m")
    .readonly();
}

/** A PromQL target on the `prometheus` data source. */
export function prom(expr: string, legend?: string): PromQuery {
  const q = new PromQuery().expr(expr).datasource(DATASOURCES.prometheus).range();
  return legend === undefined ? q : q.legendFormat(legend);
}

/** A LogQL target on the `loki` data source. */
export function logql(expr: string, legend?: string): LokiQuery {
  const q = new LokiQuery().expr(expr).datasource(DATASOURCES.loki);
  return legend === undefined ? q : q.legendFormat(legend);
}

type Target = PromQuery | LokiQuery;
const REF_IDS = "ABCDEFGHIJ";
const withTargets = <P extends { withTarget(t: Target): P }>(panel: P, targets: readonly Target[]): P =>
  targets.reduce((p, t, i) => p.withTarget(t.refId(REF_IDS[i] ?? `Q${i}`)), panel);

/** A time series panel, `span` of 24 columns wide. */
export function timeseries(title: string, unit: string, targets: readonly Target[], span = 8): TimeseriesPanel {
  return withTargets(new TimeseriesPanel().title(title).unit(unit).span(span).height(8).fillOpacity(10), targets);
}

/** A single number, e.g. pods ready. */
export function stat(title: string, unit: string, targets: readonly Target[], span = 4): StatPanel {
  return withTargets(new StatPanel().title(title).unit(unit).span(span).height(4), targets);
}

/** Log lines of a LogQL selector, newest first, with their details (structured metadata) expandable. */
export function logs(title: string, expr: string, span = 24): LogsPanel {
  return new LogsPanel()
    .title(title)
    .span(span)
    .height(10)
    .showTime(true)
    .wrapLogMessage(true)
    .enableLogDetails(true)
    .withTarget(logql(expr).refId("A"));
}

/**
 * The RED row of a service behind ingress-nginx: request rate, error ratio and duration, from the
 * controller's metrics, so every app gets the same panels whatever its own instrumentation.
 * `hosts` is a regex over the Host header (`site\\.example\\.org`, or `$host` in a templated dashboard).
 */
export function redRow(service: string, hosts: string): (RowBuilder | TimeseriesPanel)[] {
  const sel = `host=~"${hosts}"`;
  return [
    new RowBuilder(`${service}: requests, errors, duration`),
    timeseries("Requests per second", "reqps", [prom(`sum by (host) (rate(nginx_ingress_controller_requests{${sel}}[$__rate_interval]))`, "{{host}}")]),
    timeseries("Errors (5xx share)", "percentunit", [
      prom(
        `sum by (host) (rate(nginx_ingress_controller_requests{${sel},status=~"5.."}[$__rate_interval])) / sum by (host) (rate(nginx_ingress_controller_requests{${sel}}[$__rate_interval]))`,
        "{{host}}",
      ),
    ]),
    timeseries("Duration (p50, p95)", "s", [
      prom(`histogram_quantile(0.5, sum by (host, le) (rate(nginx_ingress_controller_request_duration_seconds_bucket{${sel}}[$__rate_interval])))`, "p50 {{host}}"),
      prom(`histogram_quantile(0.95, sum by (host, le) (rate(nginx_ingress_controller_request_duration_seconds_bucket{${sel}}[$__rate_interval])))`, "p95 {{host}}"),
    ]),
  ];
}

/** The log row of a namespace: lines per level, then the warning and error lines themselves. */
export function logsRow(namespace: string): (RowBuilder | TimeseriesPanel | LogsPanel)[] {
  const sel = `job="kubernetes/pods", namespace="${namespace}"`;
  return [
    new RowBuilder(`${namespace}: logs`),
    timeseries("Log lines by level", "short", [logql(`sum by (level) (count_over_time({${sel}} [$__auto]))`, "{{level}}")], 24),
    logs("Warnings and errors", `{${sel}, level=~"warn|error|fatal"}`),
  ];
}

/** A regex matching exactly these strings (for `=~` matchers). */
export function exactly(values: readonly string[]): string {
  return values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\\\$&")).join("|");
}

/**
 * The homelab at a glance: the node's CPU, memory and disk, alerts firing, pods not ready in each
 * component's namespace, traffic through the ingress, and error lines per namespace.
 */
export function platformOverview(namespaces: readonly string[]): DashboardBuilder {
  const ns = exactly(namespaces);
  return withItems(newDashboard("homelab-overview", "Homelab overview", "platform"), [
    new RowBuilder("Node"),
    timeseries("CPU busy", "percentunit", [prom('1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[$__rate_interval]))', "{{instance}}")]),
    timeseries("Memory used", "percentunit", [prom("1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes", "{{instance}}")]),
    timeseries("Root disk used", "percentunit", [prom('1 - node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes{mountpoint="/"}', "{{instance}}")]),
    new RowBuilder("Health"),
    stat("Alerts firing", "short", [prom('sum by (severity) (ALERTS{alertstate="firing",alertname!="Watchdog"})', "{{severity}}")], 8),
    timeseries("Pods not ready, by component", "short", [prom(`sum by (namespace) (kube_pod_status_ready{condition="false",namespace=~"${ns}"})`, "{{namespace}}")], 16),
    new RowBuilder("Traffic and logs"),
    timeseries("Requests per second, by site", "reqps", [prom("sum by (host) (rate(nginx_ingress_controller_requests[$__rate_interval]))", "{{host}}")], 12),
    timeseries("Error log lines, by namespace", "short", [logql('sum by (namespace) (count_over_time({job="kubernetes/pods", level=~"error|fatal"} [$__auto]))', "{{namespace}}")], 12),
  ]);
}

/** Adds rows and panels in order: a row starts a new section, panels flow into the current one. */
export function withItems(d: DashboardBuilder, items: readonly (RowBuilder | { build(): unknown })[]): DashboardBuilder {
  for (const it of items) {
    if (it instanceof RowBuilder) d.withRow(it);
    else d.withPanel(it as never);
  }
  return d;
}

// ---------------------------------------------------------------------------------------------
// Rendering and checking

/** The ConfigMaps Grafana's sidecar loads, one per dashboard, in the monitoring namespace. */
export function dashboardConfigMaps(defs: readonly DashboardDef[], namespace: string, labels: Record<string, string>): K8sObject[] {
  return defs.map((d) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: `dashboard-${d.uid}`, namespace, labels: { ...labels, ...DASHBOARD_LABEL, "homelab/dashboard-owner": d.component } },
    data: { [`${d.uid}.json`]: (PRINTED.get(d.json) ?? JSON.stringify(d.json, null, 2)) + "\n" },
  }));
}

/** A built dashboard the platform itself owns rather than one component (the overview). */
export function platformDashboard(builder: DashboardBuilder): DashboardDef {
  return built("platform", builder);
}

/**
 * A dashboard's JSON model as Grafana reads it. The SDK's objects carry helper functions, so the
 * model is taken through JSON once: what is checked is exactly what is rendered.
 */
export function built(component: string, builder: DashboardBuilder): DashboardDef {
  // Printed once, as the ConfigMap holds it, and read back: printing the SDK's objects and printing their
  // JSON copy give the same text (the same own properties in the same order, toJSON applied once), so the
  // compact round trip and the second printing of every app's dashboard are saved.
  const text = JSON.stringify(builder.build(), null, 2);
  const json = JSON.parse(text) as dashboard.Dashboard;
  PRINTED.set(json, text);
  return { component, uid: json.uid ?? "", title: json.title ?? "", json };
}

/** The text each built dashboard's JSON was read from (`built`), for its ConfigMap. */
const PRINTED = new WeakMap<object, string>();

/**
 * The platform step: every dashboard as a ConfigMap in the monitoring component's folder (its
 * namespace is where Grafana's sidecar looks). Called only when the monitoring component exists.
 */
export function renderDashboards(monitoring: { readonly name: string; add(o: K8sObject): unknown; commonLabels(): Record<string, string> }, defs: readonly DashboardDef[]): void {
  for (const cm of dashboardConfigMaps(defs, monitoring.name, monitoring.commonLabels())) monitoring.add(cm);
}

/**
 * Grafana fills in its variables before a query reaches the data source; the parsers see a
 * plausible value instead: a duration for the interval variables, a word for the others (which stand
 * inside label matcher strings in our queries).
 */
export function expandVariables(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range|auto)\b/g, "5m").replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, "$1");
}

/** The LogQL parser with its shared verdicts (query-syntax.ts). */
const LOGQL = querySyntax(logqlParser, "String");

/** Position of the first syntax error in a LogQL expression, or undefined when it parses. */
export function logqlSyntaxError(expr: string): number | undefined {
  return syntaxError(LOGQL, expr);
}

/** How many queries a dashboard runs (rows' nested panels included). */
export function queryCount(d: DashboardDef): number {
  const panels = (d.json.panels ?? []) as PanelLike[];
  return panels.flatMap((p) => [p, ...(p.panels ?? [])]).reduce((n, p) => n + (p.targets?.length ?? 0), 0);
}

interface PanelLike {
  title?: string;
  type?: string;
  targets?: { expr?: string; datasource?: { type?: string; uid?: string } }[];
  panels?: PanelLike[];
}

/**
 * Every query of every dashboard, parsed; each problem names the dashboard, the panel and the position.
 * Also refuses two dashboards with one uid, a query on an unknown data source, and an empty query.
 */
export function checkDashboards(defs: readonly DashboardDef[]): Issue[] {
  const issues: Issue[] = [];
  const seen = new Map<string, string>();
  for (const d of defs) {
    const subject = `dashboard ${d.uid} (${d.title}, component ${d.component})`;
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(d.uid)) issues.push({ subject, path: "/uid", message: `uid '${d.uid}' must be 1 to 40 letters, digits, '-' or '_' (Grafana's limit)`, check: "dashboards" });
    const first = seen.get(d.uid);
    if (first !== undefined) issues.push({ subject, path: "/uid", message: `uid '${d.uid}' is already used by component ${first}`, check: "dashboards" });
    else seen.set(d.uid, d.component);
    const panels = (d.json.panels ?? []) as PanelLike[];
    const all = panels.flatMap((p) => [p, ...(p.panels ?? [])]);
    all.forEach((p, i) => {
      (p.targets ?? []).forEach((t, j) => {
        const path = `/panels/${i}/targets/${j}/expr`;
        const where = `panel '${p.title ?? `#${i}`}'`;
        const expr = t.expr ?? "";
        const ds = t.datasource?.uid;
        if (!expr.trim()) {
          issues.push({ subject, path, message: `${where}: empty query`, check: "dashboards" });
          return;
        }
        if (ds === DATASOURCES.prometheus.uid) {
          const err = promqlSyntaxError(expandVariables(expr));
          if (err !== undefined) issues.push({ subject, path, message: `${where}: PromQL syntax error near character ${err + 1} of '${expr}'`, check: "promql" });
        } else if (ds === DATASOURCES.loki.uid) {
          const err = logqlSyntaxError(expandVariables(expr));
          if (err !== undefined) issues.push({ subject, path, message: `${where}: LogQL syntax error near character ${err + 1} of '${expr}'`, check: "logql" });
        } else {
          issues.push({ subject, path, message: `${where}: data source '${ds ?? "(none)"}' is not one Grafana is provisioned with (${Object.keys(DATASOURCES).join(", ")})`, check: "dashboards" });
        }
      });
    });
  }
  return issues;
}
