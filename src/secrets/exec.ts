/**
 * Running a command with decrypted secrets (`secrets exec-env`, `secrets exec-file`), as sops'
 * exec-env/exec-file do (cmd/sops/subcommand/exec): the values go into the child's environment, or
 * into a FIFO (default) or a 0600 file in a private RAM-backed directory whose path replaces `{}`.
 * This process waits for the child, passes signals on to it, removes the FIFO/file however the
 * child ends, and exits with the child's status.
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, constants, openSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { UserError } from "../errors.ts";
import { PrivateScratch, forwardSignals } from "./files.ts";
import { formatGoFloat, Branch, BytesValue, Comment, FloatValue, IntValue, TimeValue, type Value } from "./tree.ts";
import { constants as osConstants } from "node:os";

/** The command: argv (no shell), or one string for `/bin/sh -c` as sops runs it. */
export type ExecCommand = { readonly argv: readonly string[] } | { readonly shell: string };

/** sops' fallback name for the decrypted file (exec.FallbackFilename). */
export const FALLBACK_FILENAME = "tmp-file";

/**
 * The environment entries of a decrypted document's top level, as sops' exec-env builds them:
 * comments skipped, nested values and keys with `=` refused, other scalars as text.
 */
export function envEntries(doc: Branch, file: string): [string, string][] {
  const out: [string, string][] = [];
  for (const it of doc.items) {
    if (it.key instanceof Comment) continue;
    const v = it.value;
    if (v instanceof Branch || Array.isArray(v)) throw new UserError(`${file}: cannot use complex value in environment; offending key ${it.key}`);
    if (it.key.includes("=")) throw new UserError(`${file}: cannot use keys with '=' in environment: ${it.key}`);
    const text = envText(v);
    if (text.includes("\0") || it.key.includes("\0")) throw new UserError(`${file}: ${it.key}: an environment variable cannot hold a NUL byte`);
    out.push([it.key, text]);
  }
  return out;
}

/** sops' stores.ValToString for the scalar types a sops tree holds. */
function envText(v: Value): string {
  if (v === null) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return String(v);
  if (v instanceof IntValue) return v.value.toString();
  if (v instanceof FloatValue) {
    const s = formatGoFloat(v.value);
    return /[.eEIN]/.test(s) ? s : `${s}.0`;
  }
  if (v instanceof TimeValue) return v.text;
  if (v instanceof BytesValue) throw new UserError("a value that is not UTF-8 text cannot go into the environment; use exec-file");
  return String(v);
}

const SIGNAL_NUMBERS = osConstants.signals as Record<string, number>;

/**
 * Runs the command in the foreground and resolves to its exit status (128 + n when signal n ended
 * it). SIGTERM, SIGHUP, SIGQUIT, SIGUSR1/2 are passed on. SIGINT is passed on only without a
 * terminal: Ctrl-C at a terminal already reaches the child (same process group), and a second
 * SIGINT makes tools such as `docker compose` stop forcefully instead of gracefully.
 */
export async function runForeground(cmd: ExecCommand, env: NodeJS.ProcessEnv): Promise<number> {
  const [file, args] = "shell" in cmd ? ["/bin/sh", ["-c", cmd.shell]] : [cmd.argv[0]!, cmd.argv.slice(1)];
  const child = spawn(file, args, { stdio: "inherit", env });
  const release = forwardSignals((sig) => {
    if (sig === "SIGINT" && process.stdin.isTTY) return;
    try {
      child.kill(sig);
    } catch {
      // Already gone.
    }
  });
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on("error", (e: NodeJS.ErrnoException) =>
        reject(new UserError(`cannot run ${JSON.stringify(file)}: ${e.code === "ENOENT" ? "command not found" : e.message}`)),
      );
      child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 + (SIGNAL_NUMBERS[signal] ?? 0) : 1)));
    });
  } finally {
    release();
  }
}

/** Replaces every `{}` with the path, in the shell string or in each argument. */
export function withPath(cmd: ExecCommand, path: string): ExecCommand {
  const has = "shell" in cmd ? cmd.shell.includes("{}") : cmd.argv.some((a) => a.includes("{}"));
  if (!has) throw new UserError("the command must contain {} where the path of the decrypted file goes");
  return "shell" in cmd ? { shell: cmd.shell.replaceAll("{}", path) } : { argv: cmd.argv.map((a) => a.replaceAll("{}", path)) };
}

/**
 * Runs the command with `{}` replaced by the path of the decrypted content. With `fifo` the content
 * only ever sits in a pipe (it can be read once, as with sops); otherwise in a 0600 file in a private
 * directory on /dev/shm where available. Both are removed when the command ends, whichever way.
 */
export async function execWithFile(cmd: ExecCommand, content: Buffer, opts: { fifo: boolean; filename?: string; env: NodeJS.ProcessEnv }): Promise<number> {
  const name = opts.filename ?? FALLBACK_FILENAME;
  if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0")) {
    throw new UserError(`--filename ${JSON.stringify(name)} must be a plain file name (no directories)`);
  }
  const scratch = new PrivateScratch();
  let writer: Promise<void> = Promise.resolve();
  let fifoPath: string | undefined;
  try {
    let path: string;
    if (opts.fifo) {
      path = fifoPath = join(scratch.dir, name);
      const mk = spawnSync("mkfifo", ["-m", "600", path], { encoding: "utf8" });
      if (mk.status !== 0) throw new UserError(`cannot create a FIFO (${(mk.stderr || mk.error?.message || "mkfifo failed").trim()}); use --no-fifo`);
      // Opening a FIFO for writing waits for a reader: done in the background while the command runs.
      writer = (async () => {
        // O_WRONLY without O_CREAT: should the FIFO be gone already, this must fail, never create a plain file.
        const fh = await open(path, constants.O_WRONLY);
        try {
          await fh.writeFile(content);
        } finally {
          await fh.close();
        }
      })().catch(() => {
        // The reader went away (EPIPE) or never came: nothing to deliver any more.
      });
    } else path = scratch.write(name, content);
    return await runForeground(withPath(cmd, path), opts.env);
  } finally {
    if (fifoPath) {
      unblockWriter(fifoPath);
      await writer;
      // A FIFO holds no data on disk; it is unlinked, not shredded (a pipe cannot be overwritten).
      rmSync(fifoPath, { force: true });
    }
    scratch.dispose();
  }
}

/** A writer still waiting for a reader is released by opening the FIFO once for reading (it then gets EPIPE). */
function unblockWriter(path: string): void {
  try {
    closeSync(openSync(path, constants.O_RDONLY | constants.O_NONBLOCK));
  } catch {
    // Gone already.
  }
}
