/**
 * The one argument parser of every `homelab` command. A command declares its options once (type,
 * placeholder, help line); parsing, help text and usage errors all come from that declaration, so
 * adding a flag is one line in the command's spec. Parsing is `node:util`'s `parseArgs` (its
 * tokenizer), with our own checks on top so every mistake is a plain-words usage error (exit 2), never
 * a library message or a stack trace.
 */
import { parseArgs } from "node:util";
import { UserError } from "../errors.ts";
import { closest } from "../suggest.ts";

export interface OptionSpec {
  readonly type: "string" | "boolean";
  /** One-letter alias, e.g. `o` for `-o`. */
  readonly short?: string;
  /** The option may be repeated; its value is then a list. */
  readonly multiple?: boolean;
  /** How help shows a string option's value, e.g. `<file>`. @default "<value>" */
  readonly value?: string;
  /** Help text; further lines with `\n`. */
  readonly help: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export interface CommandSpec<O extends OptionSpecs = OptionSpecs> {
  /** The words after `homelab`, e.g. `build` or `secrets set`. */
  readonly name: string;
  /** One line for the parent's command list. */
  readonly summary: string;
  /** What follows the name in the usage line, e.g. `[paths...] [options]`. */
  readonly synopsis: string;
  /** Prose between the usage line and the options. */
  readonly description?: string;
  readonly options: O;
  /** How many positional arguments the command takes. @default none */
  readonly positionals?: { readonly min?: number; readonly max?: number; readonly name?: string };
  /** Text after the options (exit codes, notes). */
  readonly footer?: string;
  /**
   * Arguments after `--` are a command to run (e.g. `secrets exec-env FILE -- CMD ARGS…`): they go to
   * `rest` untouched instead of counting as positionals. @default they are positionals
   */
  readonly rest?: { readonly name: string };
}

type ValueOf<S extends OptionSpec> = S["type"] extends "string" ? (S["multiple"] extends true ? string[] : string) : S["multiple"] extends true ? boolean[] : boolean;

export type OptionValues<O extends OptionSpecs> = { -readonly [K in keyof O]?: ValueOf<O[K]> };

export interface ParsedArgs<O extends OptionSpecs = OptionSpecs> {
  readonly values: OptionValues<O>;
  readonly positionals: string[];
  /** What followed `--`, when the spec declares `rest`. */
  readonly rest?: string[];
}

/** Wrong usage: exit code 2; the CLI entry prints the message with the usage of the command that ran. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}

/** Declares a command's spec with its option types kept for `parseCommandArgs`. */
export function defineSpec<const O extends OptionSpecs>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

const HELP_OPTION: OptionSpec = { type: "boolean", short: "h", help: "Show this help." };

/** True when the arguments ask for help (`--help`/`-h` before any `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === "--") return false;
    if (a === "--help" || a === "-h") return true;
  }
  return false;
}

function flag(name: string, spec: OptionSpec | undefined): string {
  return name.length === 1 && !spec ? `-${name}` : `--${name}`;
}

/**
 * Parses a command's arguments against its spec. Throws `UsageError` for an unknown option (with the
 * closest known one), a missing or unexpected value, a repeated single option, and too few or too many
 * positional arguments.
 */
export function parseCommandArgs<O extends OptionSpecs>(spec: CommandSpec<O>, argv: readonly string[]): ParsedArgs<O> {
  const declared: Record<string, OptionSpec> = { ...spec.options, help: HELP_OPTION };
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries(declared)) options[name] = { type: o.type, ...(o.short && { short: o.short }), ...(o.multiple && { multiple: true }) };
  let tokens;
  try {
    // Not strict: the tokens are checked below, so every mistake gets our own wording.
    ({ tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  const rest: string[] = [];
  let afterTerminator = false;
  const known = Object.keys(declared).map((n) => `--${n}`);
  for (const t of tokens) {
    if (t.kind === "option-terminator") afterTerminator = true;
    if (t.kind === "positional") (afterTerminator && spec.rest ? rest : positionals).push(t.value);
    if (t.kind !== "option") continue;
    const o = declared[t.name];
    if (!o) {
      const guess = t.rawName.startsWith("--") ? closest(t.rawName, known) : undefined;
      throw new UsageError(`unknown option ${t.rawName}${guess ? ` — did you mean ${guess}?` : ""}`);
    }
    const shown = `--${t.name}${t.rawName.startsWith("--") ? "" : ` (${t.rawName})`}`;
    if (t.name === "help") continue;
    if (o.type === "boolean") {
      if (t.value !== undefined) throw new UsageError(`${shown} takes no value (got '${t.value}')`);
      if (o.multiple) ((values[t.name] as boolean[] | undefined) ?? (values[t.name] = [] as boolean[]) as boolean[]).push(true);
      else values[t.name] = true;
      continue;
    }
    const placeholder = o.value ?? "<value>";
    if (t.value === undefined) throw new UsageError(`${shown} needs a value: ${flag(t.name, o)} ${placeholder}`);
    // `--config --quiet`: the value was forgotten and the next option taken for it.
    if (!t.inlineValue && t.value.startsWith("-") && t.value !== "-")
      throw new UsageError(`${shown} needs a value, but '${t.value}' looks like an option; for a value that starts with a dash write --${t.name}=${t.value}`);
    if (t.value === "") throw new UsageError(`${shown} needs a non-empty value: ${flag(t.name, o)} ${placeholder}`);
    if (o.multiple) ((values[t.name] as string[] | undefined) ?? (values[t.name] = [] as string[]) as string[]).push(t.value);
    else if (values[t.name] !== undefined) throw new UsageError(`${shown} given twice ('${values[t.name] as string}' and '${t.value}'); give it once`);
    else values[t.name] = t.value;
  }
  const { min = 0, max = 0, name = "argument" } = spec.positionals ?? {};
  if (positionals.length > max) {
    const extra = positionals.slice(max).map((p) => `'${p}'`).join(" ");
    throw new UsageError(max === 0 ? `unexpected argument ${extra}: ${spec.name} takes no arguments` : `unexpected argument ${extra}: ${spec.name} takes ${max === 1 && min === 1 ? "exactly one" : `at most ${max}`}`);
  }
  if (positionals.length < min) throw new UsageError(`missing ${name}`);
  return { values: values as OptionValues<O>, positionals, ...(spec.rest ? { rest } : {}) };
}

/** The usage line and the option list, generated from the spec. */
export function formatUsage(spec: CommandSpec): string {
  const rows = Object.entries({ ...spec.options, help: HELP_OPTION }).map(([name, o]) => {
    const left = `${o.short ? `-${o.short}, ` : ""}--${name}${o.type === "string" ? ` ${o.value ?? "<value>"}` : ""}${o.multiple ? " (repeatable)" : ""}`;
    return { left, help: o.help.split("\n") };
  });
  const width = Math.max(20, ...rows.map((r) => r.left.length)) + 2;
  const lines = [`Usage: homelab ${spec.name} ${spec.synopsis}`.trimEnd(), "", "Options:"];
  for (const r of rows) {
    lines.push(`  ${r.left.padEnd(width)}${r.help[0]}`);
    for (const more of r.help.slice(1)) lines.push(`  ${"".padEnd(width)}${more}`);
  }
  return lines.join("\n");
}

/** The full help of a command: usage, description, options, footer. */
export function formatHelp(spec: CommandSpec): string {
  const [usageLine, ...rest] = formatUsage(spec).split("\n");
  return [usageLine, ...(spec.description ? ["", spec.description] : []), ...rest, ...(spec.footer ? ["", spec.footer] : [])].join("\n");
}
