/**
 * Runs promtool through a wrapper first on PATH that notes, for every `test rules` run, its files, the
 * rule files those load and its GOMAXPROCS, then hands over to the real promtool (the suites of
 * alerts.test.ts and promtool-classes.test.ts).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface PromtoolLog {
  /** Every test file promtool was given, in order. */
  readonly files: string[];
  /** Every rule file those test files load (one line per `rule_files` entry). */
  readonly rules: string[];
  /** GOMAXPROCS of each run ("unset" where none). */
  readonly gomaxprocs: string[];
  /** Each run's test files. */
  readonly runs: string[][];
}

/** A folder holding a `promtool` that logs into it; `read()` gives what it logged. */
export function promtoolLogger(): { dir: string; read: () => PromtoolLog; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "promtool-log-"));
  const real = execFileSync("sh", ["-c", "command -v promtool"], { encoding: "utf8" }).trim();
  writeFileSync(
    join(dir, "promtool"),
    [
      "#!/bin/sh",
      `if [ "$1 $2" = "test rules" ]; then`,
      `  printf '%s\\n' "\${GOMAXPROCS-unset}" >> '${dir}/env'`,
      "  shift 2",
      `  printf '%s\\n' "$@" >> '${dir}/log'`,
      `  printf '%s\\n' "$*" >> '${dir}/runs'`,
      `  for f in "$@"; do sed -n '/^rule_files:/,/^[a-z_]*:/s/^ *- *//p' "$f" >> '${dir}/rules'; done`,
      "  set -- test rules \"$@\"",
      "fi",
      `exec '${real}' "$@"`,
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  const lines = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), "utf8").trim().split("\n").filter(Boolean) : []);
  return {
    dir,
    read: () => ({ files: lines("log"), rules: lines("rules"), gomaxprocs: lines("env"), runs: lines("runs").map((l) => l.split(" ")) }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs `fn` with the logging promtool first on PATH. */
export async function logged<T>(fn: () => Promise<T>): Promise<PromtoolLog & { result: T }> {
  const log = promtoolLogger();
  const path = process.env.PATH;
  process.env.PATH = `${log.dir}:${path}`;
  try {
    const result = await fn();
    return { result, ...log.read() };
  } finally {
    process.env.PATH = path;
    log.remove();
  }
}
