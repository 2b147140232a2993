import pkg from "../../package.json" with { type: "json" };
import { InternalError, UserError } from "../errors.ts";
import { closest } from "../suggest.ts";
import { formatHelp, formatUsage, parseCommandArgs, UsageError, wantsHelp } from "./args.ts";
import { EXIT, type Command } from "./command.ts";
import { build } from "./commands/build.ts";
import { check } from "./commands/check.ts";
import { values } from "./commands/values.ts";
import { secrets } from "./commands/secrets.ts";
import { charts } from "./commands/charts.ts";

/** Every command, in the order `homelab --help` lists them. */
const COMMANDS: readonly Command[] = [build, check, values, secrets, charts];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.spec.name.length));
  return [
    "Usage: homelab <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(width)}  ${c.spec.summary}`),
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

function unknown(what: string, name: string, among: readonly Command[]): string {
  const guess = closest(name, among.map(word));
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
  let cmd = COMMANDS.find((c) => c.spec.name === first);
  if (!cmd) {
    console.error(`homelab: ${first.startsWith("-") ? `unknown option ${first}` : unknown("command", first, COMMANDS)}\n\n${usage()}`);
    return EXIT.usage;
  }
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
      console.error(`homelab ${top}: ${sub.startsWith("-") ? `unknown option ${sub}` : unknown("subcommand", sub, cmd.subcommands)}\n\n${helpOf(cmd)}`);
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
