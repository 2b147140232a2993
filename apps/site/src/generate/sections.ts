/**
 * The generated reference pages. Each reads the model the build produced and nothing else; a section
 * whose part of the homelab does not exist yet says so instead of showing an empty table.
 */
import { runbookUrl } from "../../../../src/platform/lib/alerts.ts";
import { MONITORING } from "../../../../src/platform/platform.ts";
import type { K8sObject } from "../../../../src/model/k8s.ts";
import { formatBytes, formatCpu, type Totals } from "../../../../src/platform/lib/footprint.ts";
import { code, html, table, type Html, type Part } from "./html.ts";
import type { SiteModel } from "./model.ts";

/** Site path of a runbook section: the same anchor the alert's runbook_url uses in Forgejo. */
export function runbookPage(runbook: string, alert?: string): string {
  return `/docs/runbooks/${runbook}.html${alert ? `#${alert.toLowerCase()}` : ""}`;
}

function objectsOfFolder(m: SiteModel, name: string): number {
  return m.build.plan.folders.find((f) => f.name === name)?.objects.length ?? 0;
}

/** A chart's images, each once, with the containers that run it. */
function chartImageRows(images: readonly { container: string; image: string }[]): [string, string[]][] {
  const by = new Map<string, string[]>();
  for (const i of images) by.set(i.image, [...(by.get(i.image) ?? []), i.container]);
  return [...by];
}

export function inventory(m: SiteModel): Html {
  const { build } = m;
  const comps = [...build.platform.components].sort((a, b) => a.props.wave - b.props.wave || a.name.localeCompare(b.name));
  const kinds = new Map<string, number>();
  for (const o of build.plan.objects) kinds.set(o.object.kind, (kinds.get(o.object.kind) ?? 0) + 1);
  return html`<h1>Component inventory</h1>
<p>Every component is one namespace, one Argo CD Application and one folder <code>${build.config.git.path}/&lt;name&gt;/</code>; the root app-of-apps (<code>${build.config.git.path}/root/</code>) holds the Applications. ${build.plan.objects.length} objects in ${build.plan.folders.length} folders.</p>
<table id="components"><thead><tr><th scope="col">component</th><th scope="col">layer</th><th scope="col">sync wave</th><th scope="col">chart</th><th scope="col">images</th><th scope="col">objects</th><th scope="col">secrets</th></tr></thead><tbody>
${comps.map((c) => {
    const pin = c.helm ? build.versions.charts[c.helm.chart] : undefined;
    const images = m.images.get(c.name) ?? [];
    const fromChart = chartImageRows(m.chartImages.get(c.name) ?? []);
    return html`<tr data-component="${c.name}"><th scope="row"><code>${c.name}</code></th><td>${c.props.layer}</td><td>${c.props.wave}</td><td>${pin ? html`<code>${c.helm!.chart}</code> ${pin.version}` : "—"}</td><td>${images.length || fromChart.length ? [...images.map((i) => html`<code>${i}</code> `), ...fromChart.map(([i, containers]) => html`<span class="chart-image" data-chart-image="${i}"><code>${i}</code> <small>(chart: ${containers.join(", ")})</small></span> `)] : "—"}</td><td data-objects="${objectsOfFolder(m, c.name)}">${objectsOfFolder(m, c.name)}</td><td>${c.secrets.length ? c.secrets.map((s) => html`<code>${s.name}</code> `) : "—"}</td></tr>`;
  })}
<tr data-component="root"><th scope="row"><code>root</code></th><td>gitops</td><td>-10</td><td>—</td><td>—</td><td data-objects="${objectsOfFolder(m, "root")}">${objectsOfFolder(m, "root")}</td><td>—</td></tr>
</tbody></table>
<h2 id="charts">Charts</h2>
${table(
    ["chart", "version", "repository", "locked defaults"],
    build.charts.map((c) => [code(c.name), c.version, c.repo, code(c.defaults)]),
    "No component installs a Helm chart.",
  )}
<h2 id="pinned">Everything <code>versions.yaml</code> pins</h2>
${table(
    ["chart", "version", "repository", "installed by"],
    Object.entries(build.versions.charts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, pin]) => [code(name), pin.version, pin.repo, build.platform.components.filter((c) => c.helm?.chart === name).map((c) => c.name).join(", ") || "not installed yet"]),
    "versions.yaml pins no chart.",
  )}
<h2 id="images">Images</h2>
${table(
    ["image", "reference", "tag"],
    [
      ...Object.entries(build.versions.images)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, img]) => [code(name), code(img.image), img.tag]),
      ...build.config.apps.map((a) => [html`<code>${a.name}</code> (app)`, code(a.image), a.tag]),
    ],
    "No image is pinned.",
  )}
<h2 id="kinds">Objects per kind</h2>
${table(["kind", "objects"], [...kinds].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => [code(k), n]), "Nothing is rendered.")}`;
}

export function alertCatalog(m: SiteModel): Html {
  const groups = m.build.platform.components.flatMap((c) => c.alertGroups);
  const rules = groups.reduce((n, g) => n + g.rules.length, 0);
  const deployed = m.build.platform.components.some((c) => c.name === MONITORING);
  const ctx = m.build.platform.ctx;
  return html`<h1>Alert catalog</h1>
<p>${rules} alert rules in ${groups.length} groups, each with its PromQL parsed at build time, a firing and a quiet promtool test case and a runbook section. ${deployed
    ? html`They are rendered as PrometheusRules into the components' folders and evaluated by Prometheus in <code>${MONITORING}</code>.`
    : html`<strong>Not deployed yet:</strong> the monitoring component is not part of this homelab, so the rules are tested at build time but not rendered into <code>gitops/</code>.`}</p>
${groups.length === 0
    ? html`<p class="empty">No component declares alerts yet.</p>`
    : groups.map(
        (g) => html`<section class="alert-group" id="${g.name}"><h2><code>${g.name}</code> <small>(component <code>${g.component}</code>)</small></h2>
<table><thead><tr><th scope="col">alert</th><th scope="col">severity</th><th scope="col">for</th><th scope="col">expression</th><th scope="col">summary and description</th><th scope="col">runbook</th></tr></thead><tbody>
${g.rules.map(
          (r) => html`<tr data-alert="${r.alert}"><th scope="row" id="alert-${r.alert.toLowerCase()}">${r.alert}</th><td><span class="severity ${r.severity}">${r.severity}</span></td><td>${r.for ?? "—"}</td><td><pre><code>${r.expr}</code></pre></td><td><strong>${r.summary}</strong><br>${r.description}</td><td><a href="${runbookPage(r.runbook, r.alert)}">${r.runbook}</a><br><a class="external" href="${runbookUrl(ctx, r)}">in Forgejo</a></td></tr>`,
        )}
</tbody></table></section>`,
      )}`;
}

interface Dashboard {
  readonly owner: string;
  readonly title: string;
  readonly uid: string;
  readonly panels: number;
  readonly tags: readonly string[];
}

type PanelJson = { panels?: PanelJson[] };

/** The dashboards the components declare (built with lib/dashboards.ts), as the platform gathers them. */
export function dashboardsOf(m: SiteModel): Dashboard[] {
  const count = (ps: readonly PanelJson[] | undefined): number => (ps ?? []).reduce((n, p) => n + 1 + count(p.panels), 0);
  return m.build.platform.dashboards
    .map((d) => {
      const json = d.json as { panels?: PanelJson[]; tags?: string[] };
      return { owner: d.component, title: d.title, uid: d.uid, panels: count(json.panels), tags: json.tags ?? [] };
    })
    .sort((a, b) => a.title.localeCompare(b.title));
}

export function dashboards(m: SiteModel): Html {
  const list = dashboardsOf(m);
  const deployed = m.build.platform.components.some((c) => c.name === MONITORING);
  if (list.length === 0) return html`<h1>Dashboards</h1><p class="empty">No dashboards yet: no component declares a Grafana dashboard.</p>`;
  return html`<h1>Dashboards</h1>
<p>${list.length} dashboards, built in code with Grafana's foundation SDK; every PromQL and LogQL query is parsed at build time. ${deployed
    ? html`Each is rendered as a ConfigMap labelled <code>grafana_dashboard: "1"</code> in <code>${MONITORING}</code>, where Grafana's sidecar loads it.`
    : html`<strong>Not deployed yet:</strong> the monitoring component is not part of this homelab, so no Grafana loads them.`}</p>
${table(["title", "uid", "panels", "tags", "owner"], list.map((d) => [d.title, code(d.uid), d.panels, d.tags.join(", ") || "—", code(d.owner)]), "")}`;
}

interface BackupSchedule {
  readonly name: string;
  readonly cron: string;
  readonly namespaces: string;
  readonly ttl: string;
  readonly source: string;
}

type ScheduleSpec = { schedule?: string; template?: { includedNamespaces?: string[]; excludedNamespaces?: string[]; ttl?: string; storageLocation?: string } };

function describeTemplate(t: ScheduleSpec["template"]): string {
  // Velero reads no list, or "*", as every namespace.
  const every = !t?.includedNamespaces?.length || t.includedNamespaces.includes("*");
  const inc = every ? "all namespaces" : t!.includedNamespaces!.join(", ");
  return t?.excludedNamespaces?.length ? `${inc} except ${t.excludedNamespaces.join(", ")}` : inc;
}

/** Velero schedules: rendered Schedule objects, and the `schedules` a Velero chart release sets in its values. */
export function backupSchedulesOf(m: SiteModel): BackupSchedule[] {
  const out: BackupSchedule[] = [];
  for (const { object, file } of m.build.plan.objects) {
    if (object.kind !== "Schedule" || !object.apiVersion.startsWith("velero.io/")) continue;
    const spec = (object as K8sObject & { spec?: ScheduleSpec }).spec ?? {};
    out.push({ name: `${object.metadata.namespace}/${object.metadata.name}`, cron: spec.schedule ?? "—", namespaces: describeTemplate(spec.template), ttl: spec.template?.ttl ?? "—", source: file });
  }
  for (const c of m.build.platform.components) {
    if (c.helm?.chart !== "velero") continue;
    const schedules = (c.helm.values.schedules ?? {}) as Record<string, ScheduleSpec & { disabled?: boolean }>;
    for (const [name, s] of Object.entries(schedules)) {
      if (s.disabled) continue;
      out.push({ name: `${c.name}/${name}`, cron: s.schedule ?? "—", namespaces: describeTemplate(s.template), ttl: s.template?.ttl ?? "—", source: `values of ${c.name}'s velero chart` });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export function backups(m: SiteModel): Html {
  const list = backupSchedulesOf(m);
  return html`<h1>Backup schedules</h1>
${list.length === 0
    ? html`<p class="empty">No backups are scheduled yet: the homelab has no Velero schedule. This page lists them when a backup component is part of the homelab.</p>`
    : table(["schedule", "cron (UTC)", "namespaces", "kept for", "declared in"], list.map((s) => [code(s.name), code(s.cron), s.namespaces, s.ttl, code(s.source)]), "")}`;
}

export function secretsInventory(m: SiteModel): Html {
  return html`<h1>Secrets inventory</h1>
<p>Every Secret a component reads, its keys and the age recipients its encrypted file opens for. Values are never shown: the site is generated without any key and reads only the files' public metadata.</p>
${table(
    ["Secret", "read by", "keys", "encrypted file", "recipients", "last modified"],
    m.secrets.map((s) => [
      code(s.name),
      html`${s.readBy.includes(" ") ? s.readBy : code(s.readBy)}${s.declaredAt ? html` (${code(s.declaredAt)})` : ""}`,
      s.keys.map((k) => html`<code>${k}</code> `),
      code(s.file),
      s.problem ? html`<span class="problem">${s.problem}</span>` : s.recipients.map((r) => html`<code class="recipient">${r}</code> `),
      s.lastModified ?? "—",
    ]),
    "No component declares a Secret.",
  )}`;
}

export function policyReport(m: SiteModel): Html {
  const r = m.build.policy;
  const waivers = m.build.config.policy.waivers;
  return html`<h1>Policy report</h1>
<p>${r.rules.filter((x) => x.status === "ran").length} rules ran over ${r.objects} objects and ${r.files} files: <strong>${r.counts.errors} errors, ${r.counts.warnings} warnings, ${r.counts.waived} waived</strong>. The build refuses to write <code>gitops/</code> while any error is left.</p>
<h2 id="rules">Rules</h2>
<table id="policy-rules"><thead><tr><th scope="col">rule</th><th scope="col">severity</th><th scope="col">status</th><th scope="col">violations</th><th scope="col">waived</th><th scope="col">why</th></tr></thead><tbody>
${r.rules.map((x) => html`<tr><th scope="row"><code>${x.id}</code><br>${x.title}</th><td>${x.severity}</td><td>${x.status}</td><td>${x.violations}</td><td>${x.waived}</td><td>${x.why}</td></tr>`)}
</tbody></table>
${r.notes.length ? html`<h2 id="not-run">Not run</h2><ul>${r.notes.map((n) => html`<li><code>${n.rule}</code>: ${n.message}</li>`)}</ul>` : ""}
<h2 id="violations">Violations</h2>
${table(["rule", "severity", "object", "field", "message"], r.violations.map((v) => [code(v.rule), v.severity, code(v.subject), v.path ? code(v.path) : "—", v.message]), "None: every rule passes.")}
<h2 id="waivers">Waivers</h2>
${table(["rule", "object", "reason", "expires"], waivers.map((w) => [code(w.rule), code(w.object), w.reason, w.expires]), "No waivers in homelab.config.ts.")}`;
}

function totalsRow(label: Html | string, t: Totals): Part[] {
  return [label, formatCpu(t.cpuRequests), formatBytes(t.memoryRequests), formatCpu(t.cpuLimits), html`${formatBytes(t.memoryLimits)}${t.withoutMemoryLimit ? ` (${t.withoutMemoryLimit} container(s) without a limit)` : ""}`];
}

/** `homelab footprint` as a page: what every container asks of the node, replicas counted. */
export function footprintPage(m: SiteModel): Html {
  const f = m.footprint;
  const pct = (part: number, whole: number) => (whole > 0 ? `${Math.round((part / whole) * 100)}%` : "—");
  const heads = ["", "CPU requests", "memory requests", "CPU limits", "memory limits"];
  return html`<h1>Resource footprint</h1>
<p>What every long-running container asks of the node, with replicas counted, as <code>homelab footprint</code> reports it: plain objects from their pod specs, a chart's containers from the values path its release names (our values over the chart's locked defaults).</p>
<p>Platform memory requests: <strong>${formatBytes(f.totals.platform.memoryRequests)}</strong> of a ${f.budget.written} budget (${pct(f.totals.platform.memoryRequests, f.budget.memory)}); everything: ${formatBytes(f.totals.all.memoryRequests)} of ${formatBytes(f.capacity.memory)} schedulable memory (${pct(f.totals.all.memoryRequests, f.capacity.memory)}), ${formatCpu(f.totals.all.cpuRequests)} of ${formatCpu(f.capacity.cpu)} CPU (${pct(f.totals.all.cpuRequests, f.capacity.cpu)}).</p>
${f.problems.length ? html`<h2 id="problems">Problems</h2><ul>${f.problems.map((p) => html`<li class="problem">${p.component ? html`<code>${p.component}</code>${p.container ? html`/<code>${p.container}</code>` : ""}: ` : ""}${p.message}</li>`)}</ul>` : ""}
<h2 id="totals">Totals</h2>
${table(heads, [totalsRow("platform", f.totals.platform), totalsRow("apps", f.totals.apps), totalsRow(html`<strong>all</strong>`, f.totals.all)], "")}
<h2 id="components">Per component</h2>
${table(heads.map((h, i) => (i === 0 ? "component" : h)), f.components.map((c) => totalsRow(html`<code>${c.name}</code> <small>${c.layer}</small>`, c.totals)), "No component runs a container.")}
<h2 id="containers">Per container</h2>
${table(
    ["component", "workload", "container", "replicas", "resources from", "requests", "limits"],
    f.containers.map((c) => [code(c.component), code(c.workload), code(c.container), c.perNode ? `${c.replicas} (one per node)` : c.replicas, c.source, [c.requests.cpu ?? "—", " CPU, ", c.requests.memory ?? "—"], [c.limits.cpu ?? "—", " CPU, ", c.limits.memory ?? "—"]]),
    "No container.",
  )}
<h2 id="nodes">Nodes</h2>
${table(["node", "CPU", "memory", "runs workloads"], f.nodes.map((n) => [code(n.name), n.cpu, n.memory, n.schedulable ? "yes" : "no"]), "No node.")}`;
}
