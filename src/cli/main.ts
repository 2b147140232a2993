import pkg from "../../package.json" with { type: "json" };
import { InternalError, UserError } from "../errors.ts";
import { closest } from "../suggest.ts";
import { formatHelp, formatUsage, parseCommandArgs, UsageError, wantsHelp } from "./args.ts";
import { EXIT, type Command } from "./command.ts";

/**
 * Every command, in the order `homelab --help` lists them. A command's code (and what it imports: the
 * renderer, the schemas, age) loads only when it runs, so `homelab --help` or `secrets decrypt` do not pay
 * for `build`. The summary repeats the command's spec; test/cli/lazy-commands.test.ts keeps them equal.
 */
export const COMMANDS: readonly { readonly name: string; readonly summary: string; load(): Promise<Command> }[] = [
  {
    name: "build",
    summary: "Render and validate the gitops tree (--check: verify the committed tree is current)",
    load: async () => (await import("./commands/build.ts")).build,
  },
  {
    name: "check",
    summary: "Run the policy rules over the rendered tree, or over any Kubernetes YAML given as paths",
    load: async () => (await import("./commands/check.ts")).check,
  },
  {
    name: "values",
    summary: "Print a component's Helm values (or --version: its pinned chart version)",
    load: async () => (await import("./commands/values.ts")).values,
  },
  {
    name: "footprint",
    summary: "Print CPU and memory requests and limits per component and container, against the node's capacity",
    load: async () => (await import("./commands/footprint.ts")).footprintCommand,
  },
  {
    name: "secrets",
    summary: "Encrypt, edit, verify and scan secrets (sops + age, no sops binary needed)",
    load: async () => (await import("./commands/secrets.ts")).secrets,
  },
  {
    name: "charts",
    summary: "Refresh the committed chart lock from versions.yaml (charts pull)",
    load: async () => (await import("./commands/charts.ts")).charts,
  },
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "Usage: homelab <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Options:",
    "  -h, --help     Show this help.",
    "  -V, --version  Print the version.",
    "",
    "Run `homelab help <command>` (or `homelab <command> --help`) for a command's options.",
  ].join("\n");
}

function helpOf(cmd: Command): string {
  return cmd.help ? cmd.help() : formatHelp(cmd.spec);
}

/** The last word of a command's name: `set` for `secrets set`. */
const word = (c: Command) => c.spec.name.split(" ").pop()!;

function unknown(what: string, name: string, among: readonly string[]): string {
  const guess = closest(name, among);
  return `unknown ${what} '${name}'${guess ? ` — did you mean '${guess}'?` : ""}`;
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    console.error(usage());
    return EXIT.usage;
  }
  if (first === "--help" || first === "-h" || (first === "help" && rest.length === 0)) {
    console.log(usage());
    return EXIT.ok;
  }
  if (first === "--version" || first === "-V") {
    console.log(`homelab ${pkg.version}`);
    return EXIT.ok;
  }
  // `homelab help <cmd> [sub]` is `homelab <cmd> [sub] --help`, word for word.
  if (first === "help") return main([...rest, "--help"]);
  const entry = COMMANDS.find((c) => c.name === first);
  if (!entry) {
    console.error(`homelab: ${first.startsWith("-") ? `unknown option ${first}` : unknown("command", first, COMMANDS.map((c) => c.name))}\n\n${usage()}`);
    return EXIT.usage;
  }
  let cmd = await entry.load();
  const top = cmd.spec.name;
  let args = rest;
  while (cmd.subcommands) {
    const [sub, ...more] = args;
    if (sub === undefined) {
      console.error(helpOf(cmd));
      return EXIT.usage;
    }
    if (sub === "--help" || sub === "-h" || (sub === "help" && more.length === 0)) {
      console.log(helpOf(cmd));
      return EXIT.ok;
    }
    if (sub === "help") {
      args = [...more, "--help"];
      continue;
    }
    const next: Command | undefined = cmd.subcommands.find((s) => word(s) === sub);
    if (!next) {
      console.error(`homelab ${top}: ${sub.startsWith("-") ? `unknown option ${sub}` : unknown("subcommand", sub, cmd.subcommands.map(word))}\n\n${helpOf(cmd)}`);
      return EXIT.usage;
    }
    cmd = next;
    args = more;
  }
  if (wantsHelp(args)) {
    console.log(helpOf(cmd));
    return EXIT.ok;
  }
  const spec = cmd.spec;
  try {
    return await cmd.run!(parseCommandArgs(spec, args));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`homelab ${top}: ${err.message}\n\n${formatUsage(spec)}\n\nRun \`homelab help ${spec.name}\` for details.`);
      return EXIT.usage;
    }
    if (err instanceof UserError) {
      console.error(`homelab ${top}: ${err.message}`);
      return err.exitCode;
    }
    if (err instanceof InternalError) {
      console.error(`homelab ${top}: internal error: ${err.message}`);
      return EXIT.internal;
    }
    console.error(`homelab ${top}: unexpected error:`, err);
    return EXIT.internal;
  }
}
