import { parseArgs } from "node:util";
import { loadConfig, loadVersions } from "../../config/load.ts";
import { UserError } from "../../errors.ts";
import { platform } from "../../platform/platform.ts";
import { toYaml } from "../../render/render.ts";
import { EXIT, type Command } from "../command.ts";

const HELP = `Usage: homelab values <component> [--version] [--config <file>] [--versions <file>]

Prints the Helm values a component's ArgoCD Application uses, as YAML (for the first
bootstrap of Argo CD, or to compare with a chart's defaults). With --version, prints the
pinned chart version instead.`;

export const values: Command = {
  name: "values",
  summary: "Print a component's Helm values (or --version: its pinned chart version)",
  help: HELP,
  async run(argv) {
    const { values: o, positionals } = parseArgs({
      args: argv,
      options: {
        version: { type: "boolean", default: false },
        config: { type: "string", default: "homelab.config.ts" },
        versions: { type: "string", default: "versions.yaml" },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1) throw new UserError(`expected one component name\n\n${HELP}`, EXIT.usage);
    const name = positionals[0]!;
    const v = loadVersions(o.versions);
    const p = platform(await loadConfig(o.config), v);
    const c = p.components.find((x) => x.name === name);
    if (!c) throw new UserError(`no component '${name}'; components: ${p.components.map((x) => x.name).join(", ")}`);
    if (!c.helm) throw new UserError(`component '${name}' installs no Helm chart`);
    process.stdout.write(o.version ? `${v.charts[c.helm.chart]!.version}\n` : toYaml(c.helm.values));
    return EXIT.ok;
  },
};
