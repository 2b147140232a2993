/**
 * Dashboards as code: each component's dashboards built with the foundation SDK, every query parsed
 * (PromQL and LogQL) with errors naming the dashboard and panel, and the platform step that renders them
 * as ConfigMaps for Grafana's sidecar once the monitoring component exists.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkDashboards,
  dashboardConfigMaps,
  DATASOURCES,
  expandVariables,
  logql,
  logqlSyntaxError,
  logs,
  logsRow,
  newDashboard,
  prom,
  queryCount,
  redRow,
  timeseries,
  withItems,
  type DashboardDef,
} from "../../src/platform/lib/dashboards.ts";
import { platform } from "../../src/platform/platform.ts";
import { DATASOURCE_UIDS, LOKI_URL as GRAFANA_LOKI_URL } from "../../src/platform/components/monitoring.ts";
import { LOKI_URL } from "../../src/platform/components/loki.ts";
import { render } from "../../src/render/render.ts";
import { loadSchemas, validateObjects } from "../../src/validate/kube-schema.ts";
import { config, versions } from "../helpers.ts";

const p = platform(config(), versions());
type Target = { expr: string; datasource: { uid: string }; refId?: string; legendFormat?: string };
type Panel = { title: string; type: string; targets?: Target[] };
const panels = (d: DashboardDef) => (d.json.panels ?? []) as unknown as Panel[];
const byUid = (uid: string) => {
  const d = p.dashboards.find((x) => x.uid === uid);
  assert.ok(d, `no dashboard ${uid}`);
  return d;
};
const queries = (uid: string) => Object.fromEntries(panels(byUid(uid)).filter((x) => x.targets).map((x) => [x.title, x.targets!.map((t) => t.expr)]));
const def = (title: string, expr: string, ds: "prometheus" | "loki" = "prometheus", uid = "fixture"): DashboardDef => ({
  component: "site",
  uid,
  title: "Fixture",
  json: withItems(newDashboard(uid, "Fixture", "site"), [timeseries(title, "short", [ds === "prometheus" ? prom(expr) : logql(expr)])]).build(),
});

describe("the dashboards of the default config", () => {
  it("each component owns its own; the platform owns the overview", () => {
    assert.deepEqual(
      p.dashboards.map((d) => [d.component, d.uid, d.title]),
      [
        ["argocd", "homelab-argocd", "Argo CD"],
        ["cert-manager", "homelab-certificates", "Certificates"],
        ["local-path-storage", "homelab-storage", "Storage"],
        ["ingress-nginx", "homelab-ingress", "Ingress: sites"],
        ["loki", "homelab-logs", "Logs"],
        ["site", "app-site", "App: site"],
        ["platform", "homelab-overview", "Homelab overview"],
      ],
    );
  });
  it("every query parses and uses one of the two provisioned data sources", () => {
    assert.deepEqual(checkDashboards(p.dashboards), []);
    assert.equal(p.dashboards.reduce((n, d) => n + queryCount(d), 0), 42);
    const sources = new Set(p.dashboards.flatMap((d) => panels(d).flatMap((x) => (x.targets ?? []).map((t) => t.datasource.uid))));
    assert.deepEqual([...sources].sort(), ["loki", "prometheus"]);
  });
  it("an app's dashboard shows RED from the ingress for its host, its pods and its logs", () => {
    const q = queries("app-site");
    assert.deepEqual(q["Requests per second"], ['sum by (host) (rate(nginx_ingress_controller_requests{host=~"docs\\\\.skypalette\\\\.ai"}[$__rate_interval]))']);
    assert.deepEqual(q["Errors (5xx share)"], [
      'sum by (host) (rate(nginx_ingress_controller_requests{host=~"docs\\\\.skypalette\\\\.ai",status=~"5.."}[$__rate_interval])) / sum by (host) (rate(nginx_ingress_controller_requests{host=~"docs\\\\.skypalette\\\\.ai"}[$__rate_interval]))',
    ]);
    assert.deepEqual(q["Duration (p50, p95)"], [
      'histogram_quantile(0.5, sum by (host, le) (rate(nginx_ingress_controller_request_duration_seconds_bucket{host=~"docs\\\\.skypalette\\\\.ai"}[$__rate_interval])))',
      'histogram_quantile(0.95, sum by (host, le) (rate(nginx_ingress_controller_request_duration_seconds_bucket{host=~"docs\\\\.skypalette\\\\.ai"}[$__rate_interval])))',
    ]);
    assert.deepEqual(q["Pods available"], ['sum(kube_deployment_status_replicas_available{namespace="site",deployment="site"})']);
    assert.deepEqual(q["Log lines by level"], ['sum by (level) (count_over_time({job="kubernetes/pods", namespace="site"} [$__auto]))']);
    assert.deepEqual(q["Warnings and errors"], ['{job="kubernetes/pods", namespace="site", level=~"warn|error|fatal"}']);
  });
  it("the overview covers every component's namespace, and the logs dashboard reads both log sources", () => {
    assert.deepEqual(queries("homelab-overview")["Pods not ready, by component"], [
      'sum by (namespace) (kube_pod_status_ready{condition="false",namespace=~"argocd|cert-manager|local-path-storage|monitoring|ingress-nginx|cloudflared|loki|alloy|velero|backup-canary|site"})',
    ]);
    const l = queries("homelab-logs");
    assert.deepEqual(l["Errors, everywhere"], ['{job="kubernetes/pods", level=~"error|fatal"}']);
    assert.deepEqual(l["Kubernetes events (warnings)"], ['{job="kubernetes/events"} | json | type="Warning"']);
    assert.deepEqual(Object.keys(queries("homelab-ingress")), ["Requests per second", "Errors (5xx share)", "Duration (p50, p95)", "Answers by status class", "Upstream time (p95), by host"]);
  });
  it("targets carry their data source uid and a refId; legends name the series", () => {
    const [first] = panels(byUid("homelab-ingress")).filter((x) => x.targets);
    assert.deepEqual(first!.targets, [
      { expr: 'sum by (host) (rate(nginx_ingress_controller_requests{host=~".+"}[$__rate_interval]))', datasource: DATASOURCES.prometheus, range: true, instant: false, legendFormat: "{{host}}", refId: "A" },
    ]);
    assert.deepEqual(byUid("homelab-ingress").json.tags, ["homelab", "ingress-nginx"]);
  });
});

describe("the query check", () => {
  it("a PromQL syntax error names the dashboard, the panel and the position", () => {
    assert.deepEqual(checkDashboards([def("Broken rate", "sum(rate(http_requests_total[5m])")]), [
      {
        subject: "dashboard fixture (Fixture, component site)",
        path: "/panels/0/targets/0/expr",
        message: "panel 'Broken rate': PromQL syntax error near character 34 of 'sum(rate(http_requests_total[5m])'",
        check: "promql",
      },
    ]);
  });
  it("a LogQL syntax error names the dashboard, the panel and the position", () => {
    const issues = checkDashboards([def("Unclosed selector", '{namespace="site" |= "x"', "loki")]);
    assert.deepEqual(issues.map((i) => [i.check, i.subject, i.message]), [
      ["logql", "dashboard fixture (Fixture, component site)", `panel 'Unclosed selector': LogQL syntax error near character 19 of '{namespace="site" |= "x"'`],
    ]);
    // A PromQL expression is not LogQL, and the reverse.
    assert.equal(checkDashboards([def("x", "rate(x[5m])", "loki")])[0]?.check, "logql");
    assert.equal(checkDashboards([def("x", '{a="b"} |= "x"')])[0]?.check, "promql");
  });
  it("queries inside rows are checked too", () => {
    const d = withItems(newDashboard("rows", "Rows", "site"), [...logsRow("site")]);
    const json = d.build();
    const broken = JSON.parse(JSON.stringify(json).replace("count_over_time(", "count_over_time((")) as typeof json;
    const issues = checkDashboards([{ component: "site", uid: "rows", title: "Rows", json: broken }]);
    assert.equal(issues.length, 1);
    assert.match(issues[0]!.message, /^panel 'Log lines by level': LogQL syntax error/);
  });
  it("refuses duplicate and over-long uids, unknown data sources and empty queries", () => {
    const unknownDs = def("Other", "up", "prometheus", "other");
    (unknownDs.json.panels![0] as unknown as Panel).targets![0]!.datasource = { uid: "influx" };
    const issues = checkDashboards([def("a", "up", "prometheus", "dup"), { ...def("b", "up", "prometheus", "dup"), component: "loki" }, def("c", "up", "prometheus", "x".repeat(41)), unknownDs, def("Empty", " ", "prometheus", "empty")]);
    assert.deepEqual(issues.map((i) => i.message), [
      "uid 'dup' is already used by component site",
      `uid '${"x".repeat(41)}' must be 1 to 40 letters, digits, '-' or '_' (Grafana's limit)`,
      "panel 'Other': data source 'influx' is not one Grafana is provisioned with (prometheus, loki)",
      "panel 'Empty': empty query",
    ]);
  });
  it("Grafana's variables are replaced before parsing: intervals by a duration, others by a word", () => {
    assert.equal(expandVariables('rate(x{host=~"$host"}[$__rate_interval]) + y{a="${app}"}'), 'rate(x{host=~"host"}[5m]) + y{a="app"}');
    assert.equal(logqlSyntaxError(expandVariables('count_over_time({a="b"} [$__auto])')), undefined);
    assert.notEqual(logqlSyntaxError('count_over_time({a="b"} [$__auto])'), undefined, "unexpanded, the grammar refuses the variable");
  });
});

describe("the presets", () => {
  it("redRow: a row, then rate, error share and duration for the hosts", () => {
    const items = redRow("shop", "shop\\\\.example\\\\.org");
    const json = withItems(newDashboard("red", "RED", "shop"), items).build();
    assert.deepEqual(
      (json.panels as unknown as Panel[]).map((x) => [x.type, x.title]),
      [
        ["row", "shop: requests, errors, duration"],
        ["timeseries", "Requests per second"],
        ["timeseries", "Errors (5xx share)"],
        ["timeseries", "Duration (p50, p95)"],
      ],
    );
  });
  it("logs: a logs panel with time and details on the loki data source", () => {
    const panel = JSON.parse(JSON.stringify(logs("Errors", '{a="b"}').build())) as { type: string; options: Record<string, unknown>; targets: Target[] };
    assert.equal(panel.type, "logs");
    assert.equal(panel.options.showTime, true);
    assert.equal(panel.options.enableLogDetails, true);
    assert.deepEqual(panel.targets, [{ expr: '{a="b"}', datasource: { type: "loki", uid: "loki" }, refId: "A" }]);
  });
});

describe("rendering for Grafana's sidecar", () => {
  it("queries name the data source uids Grafana is provisioned with, and Grafana's Loki is where Alloy pushes", () => {
    assert.deepEqual({ prometheus: DATASOURCES.prometheus.uid, loki: DATASOURCES.loki.uid }, DATASOURCE_UIDS);
    assert.equal(GRAFANA_LOKI_URL, LOKI_URL);
  });
  it("nothing is rendered while there is no monitoring component", () => {
    const { monitoring: _, ...components } = config().components;
    const plan = render(platform(config({ components }), versions()));
    assert.equal(plan.objects.filter((o) => o.object.metadata.labels?.grafana_dashboard !== undefined).length, 0);
  });
  it("with a monitoring component, one labelled ConfigMap per dashboard in its namespace, valid against the schema", async () => {
    // The default config has the monitoring component, which brings Grafana and its sidecar.
    const q = platform(config(), versions());
    const plan = render(q);
    const cms = plan.objects.filter((o) => o.object.metadata.labels?.grafana_dashboard === "1");
    assert.deepEqual(
      cms.map((o) => o.file),
      q.dashboards.map((d) => `gitops/monitoring/configmap-dashboard-${d.uid}.yaml`),
    );
    const overview = cms.find((o) => o.object.metadata.name === "dashboard-homelab-overview")!.object as unknown as { metadata: { namespace: string; labels: Record<string, string> }; data: Record<string, string> };
    assert.equal(overview.metadata.namespace, "monitoring");
    assert.equal(overview.metadata.labels["homelab/dashboard-owner"], "platform");
    assert.deepEqual(JSON.parse(overview.data["homelab-overview.json"]!), q.dashboards.find((d) => d.uid === "homelab-overview")!.json);
    await loadSchemas(cms);
    assert.deepEqual(validateObjects(cms), []);
  });
  it("each ConfigMap holds its dashboard's JSON model printed with two spaces, byte for byte, ending in a line break", () => {
    const q = platform(config(), versions());
    const plan = render(q);
    for (const d of q.dashboards) {
      const cm = plan.objects.find((o) => o.object.metadata.name === `dashboard-${d.uid}`)!.object as unknown as { data: Record<string, string> };
      assert.equal(cm.data[`${d.uid}.json`], `${JSON.stringify(d.json, null, 2)}\n`, d.uid);
    }
    // A model changed after it was built is printed as it is then.
    const def = { ...q.dashboards[0]!, json: { ...q.dashboards[0]!.json, title: "changed" } } as DashboardDef;
    const [cm] = dashboardConfigMaps([def], "monitoring", {});
    assert.equal((cm!.data as Record<string, string>)[`${def.uid}.json`], `${JSON.stringify(def.json, null, 2)}\n`);
  });
});
