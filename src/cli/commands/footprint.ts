import { resolve } from "node:path";
import { loadConfig, loadVersions } from "../../config/load.ts";
import { UserError } from "../../errors.ts";
import { footprint, formatBytes, formatCpu, type Footprint, type Totals } from "../../platform/lib/footprint.ts";
import { platform } from "../../platform/platform.ts";
import { render } from "../../render/render.ts";
import { lockedDefaults } from "../../validate/chart-lock.ts";
import { defineSpec, UsageError } from "../args.ts";
import { defineCommand, EXIT } from "../command.ts";

export const FOOTPRINT_SPEC = defineSpec({
  name: "footprint",
  summary: "Print CPU and memory requests and limits per component and container, against the node's capacity",
  synopsis: "[options]",
  description: `Prints the requests and limits of every long-running container the config renders (replicas
counted; a DaemonSet once per schedulable node), per component, and the totals against the nodes'
capacity (nodes[].capacity in the config) and the platform's memory budget
(footprint.platformMemoryBudget, default 4Gi; apps do not count against it).

A chart's containers are read from the merged values (the chart's locked defaults, then ours) at the
paths its component declares, so a container we do not size shows the chart's default or "none".`,
  options: {
    format: { type: "string", value: "<table|json>", help: "Output format (default: table)." },
    config: { type: "string", value: "<file>", help: "Config file (default: homelab.config.ts)" },
    versions: { type: "string", value: "<file>", help: "Versions file (default: versions.yaml)" },
  },
  footer: `Exit codes: 0 every container has CPU and memory requests and a memory limit, and the totals fit the
budget and the capacity; 1 otherwise (each problem is listed) or the config is invalid; 2 usage.`,
});

export const footprintCommand = defineCommand({
  spec: FOOTPRINT_SPEC,
  async run({ values: o }) {
    const format = o.format ?? "table";
    if (format !== "table" && format !== "json") throw new UsageError(`--format must be table or json, not '${format}'`);
    const configPath = resolve(o.config ?? "homelab.config.ts");
    const versions = loadVersions(o.versions ?? "versions.yaml");
    const config = await loadConfig(configPath);
    const p = platform(config, versions);
    const plan = render(p);
    // The chart lock of the repository it runs in, as for `homelab build`.
    const locked = await lockedDefaults(process.cwd(), versions);
    const chartDefaults = new Map<string, unknown>();
    for (const c of p.components) {
      if (!c.helm || chartDefaults.has(c.helm.chart)) continue;
      const chart = locked.found.get(c.helm.chart);
      if (!chart) throw new UserError(locked.problems.get(c.helm.chart) ?? `chart ${c.helm.chart} is not locked`);
      chartDefaults.set(c.helm.chart, (await chart.defaults()).values);
    }
    const folders = new Map(plan.folders.map((f) => [f.name, f.objects]));
    const result = footprint({
      config,
      components: p.components.map((c) => ({ name: c.name, layer: c.props.layer, ...(c.helm && { helm: c.helm }), objects: folders.get(c.name) ?? [] })),
      chartDefaults,
    });
    if (format === "json") process.stdout.write(JSON.stringify(result, null, 2) + "\n");
    else process.stdout.write(formatFootprint(result));
    return result.problems.length ? EXIT.failed : EXIT.ok;
  },
});

const pct = (part: number, whole: number) => (whole > 0 ? `${Math.round((part / whole) * 100)}%` : "-");

function totalsRow(label: string, t: Totals): string[] {
  return [label, formatCpu(t.cpuRequests), t.cpuLimits ? formatCpu(t.cpuLimits) : "-", formatBytes(t.memoryRequests), `${formatBytes(t.memoryLimits)}${t.withoutMemoryLimit ? ` (+${t.withoutMemoryLimit} unbounded)` : ""}`];
}

function table(rows: readonly string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
}

/** The human-readable report. */
export function formatFootprint(f: Footprint): string {
  const schedulable = f.nodes.filter((n) => n.schedulable);
  const out: string[] = [
    `Capacity: ${formatCpu(f.capacity.cpu)} CPU, ${formatBytes(f.capacity.memory)} memory on ${schedulable.length} schedulable node${schedulable.length === 1 ? "" : "s"} (${schedulable.map((n) => `${n.name}: ${n.cpu} CPU, ${n.memory}`).join("; ")})`,
    "",
  ];
  const rows: string[][] = [["COMPONENT", "WORKLOAD", "CONTAINER", "PODS", "CPU REQ", "CPU LIM", "MEM REQ", "MEM LIM", "FROM"]];
  for (const c of f.containers)
    rows.push([c.component, c.workload, c.container, c.perNode ? `${c.replicas} (per node)` : String(c.replicas), c.requests.cpu ?? "-", c.limits.cpu ?? "-", c.requests.memory ?? "-", c.limits.memory ?? "-", c.source]);
  out.push(...table(rows), "");
  const sums: string[][] = [["TOTAL (pods counted)", "CPU REQ", "CPU LIM", "MEM REQ", "MEM LIM"]];
  for (const c of f.components) sums.push(totalsRow(c.name, c.totals));
  sums.push(totalsRow("platform", f.totals.platform), totalsRow("apps", f.totals.apps), totalsRow("all", f.totals.all));
  out.push(...table(sums), "");
  out.push(
    `Requests of capacity: CPU ${pct(f.totals.all.cpuRequests, f.capacity.cpu)}, memory ${pct(f.totals.all.memoryRequests, f.capacity.memory)}`,
    `Platform memory requests: ${formatBytes(f.totals.platform.memoryRequests)} of its ${f.budget.written} budget (${pct(f.totals.platform.memoryRequests, f.budget.memory)})`,
  );
  if (f.problems.length) {
    out.push("", `PROBLEMS (${f.problems.length}):`);
    for (const p of f.problems) out.push(`  - ${p.component ? `${p.component}${p.container ? `/${p.container}` : ""}: ` : ""}${p.message}`);
  }
  return out.join("\n") + "\n";
}
