import { resolve } from "node:path";
import { loadVersions } from "../../config/load.ts";
import { LOCK_DIR, LOCK_FILE } from "../../validate/lock-paths.ts";
import { defineSpec } from "../args.ts";
import { defineCommand, EXIT } from "../command.ts";

export const CHARTS_PULL_SPEC = defineSpec({
  name: "charts pull",
  summary: "Refresh the chart lock for the chart versions in versions.yaml",
  synopsis: "[options]",
  description: `Refreshes the chart lock (${LOCK_FILE} and the chart folders beside it) for exactly the charts
pinned in versions.yaml. \`homelab build\` checks Helm values against these committed files only,
so it never needs the network; run this after changing a chart version, then commit ${LOCK_DIR}/.

A chart whose lock entry already matches versions.yaml (and whose files match their sha256) is
kept; any other is downloaded from its Helm repository (index.yaml, then the archive, whose
sha256 must match the index); entries of versions no longer pinned are removed. Nothing is
written unless every chart was obtained.`,
  options: {
    from: {
      type: "string",
      value: "<dir>",
      help: "Read the charts from a folder of chart folders (Chart.yaml, values.yaml,\nvalues.schema.json; matched by the name and version in Chart.yaml) instead of\ndownloading them: for a machine without access to the Helm repositories.",
    },
    refresh: { type: "boolean", help: "Obtain every chart again, even when its lock entry is current." },
    versions: { type: "string", value: "<file>", help: "Versions file (default: versions.yaml)" },
  },
  footer: "Exit codes: 0 success, 1 a chart could not be obtained or verified, 2 usage.",
});

const pull = defineCommand({
  spec: CHARTS_PULL_SPEC,
  async run({ values: o }) {
    const root = process.cwd();
    const { pullCharts } = await import("../../validate/chart-lock.ts");
    const result = await pullCharts({
      root,
      versions: loadVersions(resolve(root, o.versions ?? "versions.yaml")),
      ...(o.from !== undefined ? { from: o.from } : {}),
      refresh: o.refresh ?? false,
    });
    for (const c of result.charts) console.log(`  ${c.action.padEnd(7)}  ${c.name}@${c.version}  ${c.source}`);
    for (const r of result.removed) console.log(`  removed  ${r} (no longer in versions.yaml)`);
    for (const n of result.notes) console.log(`  note: ${n}`);
    console.log(`homelab charts pull: ${result.charts.length} chart(s) locked in ${LOCK_FILE}`);
    return EXIT.ok;
  },
});

export const charts = defineCommand({
  spec: defineSpec({
    name: "charts",
    summary: "Refresh the committed chart lock from versions.yaml (charts pull)",
    synopsis: "pull [options]",
    description: `The chart lock in ${LOCK_DIR}/ holds the pinned charts' values.yaml and values.schema.json that
\`homelab build\` checks Helm values against.

Commands:
  pull  ${CHARTS_PULL_SPEC.summary}

Run \`homelab help charts pull\` for its options.`,
    options: {},
  }),
  subcommands: [pull],
});
