import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadVersions } from "../../config/load.ts";
import { UserError } from "../../errors.ts";
import { LOCK_DIR, LOCK_FILE, pullCharts } from "../../validate/chart-lock.ts";
import { EXIT, type Command } from "../command.ts";

const HELP = `Usage: homelab charts pull [--from <dir>] [--refresh] [--versions <file>]

Refreshes the chart lock (${LOCK_FILE} and the chart folders beside it) for exactly the charts
pinned in versions.yaml. \`homelab build\` checks Helm values against these committed files only,
so it never needs the network; run this after changing a chart version, then commit ${LOCK_DIR}/.

A chart whose lock entry already matches versions.yaml (and whose files match their sha256) is
kept; any other is downloaded from its Helm repository (index.yaml, then the archive, whose
sha256 must match the index); entries of versions no longer pinned are removed. Nothing is
written unless every chart was obtained.

Options:
  --from <dir>       Read the charts from a folder of chart folders (Chart.yaml, values.yaml,
                     values.schema.json; matched by the name and version in Chart.yaml) instead
                     of downloading them: for a machine without access to the Helm repositories.
  --refresh          Obtain every chart again, even when its lock entry is current.
  --versions <file>  Versions file (default: versions.yaml)
  -h, --help         Show this help.

Exit codes: 0 success, 1 a chart could not be obtained or verified, 2 usage.`;

export const charts: Command = {
  name: "charts",
  summary: "Refresh the committed chart lock from versions.yaml (charts pull)",
  help: HELP,
  async run(argv) {
    const { values: o, positionals } = parseArgs({
      args: argv,
      options: {
        from: { type: "string" },
        refresh: { type: "boolean", default: false },
        versions: { type: "string", default: "versions.yaml" },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1 || positionals[0] !== "pull") {
      throw new UserError(`expected \`pull\`${positionals.length ? `, got \`${positionals.join(" ")}\`` : ""}\n\n${HELP}`, EXIT.usage);
    }
    const root = process.cwd();
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
};
