/** A `homelab` sub-command. Each lives in `commands/<name>.ts` and is listed in `cli/main.ts`. */
export interface Command {
  readonly name: string;
  /** One line for `homelab --help`. */
  readonly summary: string;
  /** Full text for `homelab <name> --help`. */
  readonly help: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
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
