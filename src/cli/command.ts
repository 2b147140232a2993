import type { CommandSpec, OptionSpecs, ParsedArgs } from "./args.ts";

/**
 * A `homelab` command. Each lives in `commands/<name>.ts` and is listed in `cli/main.ts`. Its spec
 * (options, help) is declared once; `cli/main.ts` parses the arguments against it, so `run` only ever
 * sees well-formed arguments.
 */
export interface Command<O extends OptionSpecs = OptionSpecs> {
  readonly spec: CommandSpec<O>;
  /** Runs with the parsed arguments; resolves to the exit code. Absent for a command made of subcommands. */
  run?(args: ParsedArgs<O>): Promise<number>;
  /** `homelab <name> <sub>`: e.g. `secrets set`. */
  readonly subcommands?: readonly Command[];
  /** Full help when it says more than the spec does (a command made of subcommands). */
  readonly help?: () => string;
}

/** Declares a command, keeping its option types for `run`. */
export function defineCommand<O extends OptionSpecs>(cmd: Command<O>): Command {
  return cmd as unknown as Command;
}

/** Exit codes shared by all commands. */
export const EXIT = {
  ok: 0,
  /** Validation or policy errors, stale tree, bad config. */
  failed: 1,
  /** Wrong usage: unknown flag or command. */
  usage: 2,
  /** Bug in this project. */
  internal: 70,
} as const;
