import { InternalError, UserError } from "../errors.ts";
import { EXIT, type Command } from "./command.ts";
import { build } from "./commands/build.ts";
import { check } from "./commands/check.ts";
import { values } from "./commands/values.ts";
import { secrets } from "./commands/secrets.ts";
import { charts } from "./commands/charts.ts";

/** Every command, in the order `homelab --help` lists them. */
const COMMANDS: readonly Command[] = [build, check, values, secrets, charts];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "Usage: homelab <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `homelab <command> --help` for a command's options.",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    console.error(`homelab: unknown command '${name}'\n\n${usage()}`);
    return EXIT.usage;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(cmd.help);
    return EXIT.ok;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UserError) {
      console.error(`homelab ${name}: ${err.message}`);
      return err.exitCode;
    }
    if (err instanceof InternalError) {
      console.error(`homelab ${name}: internal error: ${err.message}`);
      return EXIT.internal;
    }
    if (err instanceof Error && (err as NodeJS.ErrnoException).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      console.error(`homelab ${name}: ${err.message}\n\n${cmd.help}`);
      return EXIT.usage;
    }
    console.error(`homelab ${name}: unexpected error:`, err);
    return EXIT.internal;
  }
}
