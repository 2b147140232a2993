import { loadConfig, loadVersions } from "../../config/load.ts";
import { UserError } from "../../errors.ts";
import { platform } from "../../platform/platform.ts";
import { toYaml } from "../../render/render.ts";
import { defineSpec } from "../args.ts";
import { defineCommand, EXIT } from "../command.ts";

export const VALUES_SPEC = defineSpec({
  name: "values",
  summary: "Print a component's Helm values (or --version: its pinned chart version)",
  synopsis: "<component> [options]",
  description: `Prints the Helm values a component's ArgoCD Application uses, as YAML (for the first
bootstrap of Argo CD, or to compare with a chart's defaults).`,
  options: {
    version: { type: "boolean", help: "Print the pinned chart version instead." },
    config: { type: "string", value: "<file>", help: "Config file (default: homelab.config.ts)" },
    versions: { type: "string", value: "<file>", help: "Versions file (default: versions.yaml)" },
  },
  positionals: { min: 1, max: 1, name: "component name" },
});

export const values = defineCommand({
  spec: VALUES_SPEC,
  async run({ values: o, positionals }) {
    const name = positionals[0]!;
    const v = loadVersions(o.versions ?? "versions.yaml");
    const p = platform(await loadConfig(o.config ?? "homelab.config.ts"), v);
    const c = p.components.find((x) => x.name === name);
    if (!c) throw new UserError(`no component '${name}'; components: ${p.components.map((x) => x.name).join(", ")}`);
    if (!c.helm) throw new UserError(`component '${name}' installs no Helm chart`);
    process.stdout.write(o.version ? `${v.charts[c.helm.chart]!.version}\n` : toYaml(c.helm.values));
    return EXIT.ok;
  },
});
