/**
 * The only place the secrets pipeline touches the disk for writing: atomic replacement of files,
 * private scratch space for plaintext, overwrite-before-delete, and cleanup when the process is
 * interrupted, so a failed or killed command leaves neither plaintext nor a half-written file.
 */
import { randomBytes } from "node:crypto";
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";

type Cleanup = () => void;
const cleanups = new Set<Cleanup>();
let installed = false;

function runCleanups(): void {
  for (const c of [...cleanups]) {
    try {
      c();
    } catch {
      // Best effort: one failing cleanup must not stop the others.
    }
    cleanups.delete(c);
  }
}

const SIGNALS: readonly [NodeJS.Signals, number][] = [
  ["SIGINT", 2],
  ["SIGTERM", 15],
  ["SIGHUP", 1],
];

/** >0 while a foreground child (the editor) owns the terminal. */
let interruptsIgnored = 0;
/** While a command runs with decrypted secrets, signals go to it (see forwardSignals), not to cleanup-and-exit. */
let forwarder: ((sig: NodeJS.Signals) => void) | undefined;

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", runCleanups);
  for (const [sig, num] of SIGNALS) {
    process.on(sig, () => {
      if (forwarder) return forwarder(sig);
      if (sig === "SIGINT" && interruptsIgnored > 0) return;
      runCleanups();
      process.exit(128 + num);
    });
  }
}

/**
 * Ignores SIGINT and SIGQUIT until the returned function is called, as git does while the editor
 * runs: Ctrl-C in the editor reaches the whole process group and must not kill this process and
 * discard the edit. SIGTERM and SIGHUP still clean up and exit.
 */
export function ignoreInterrupts(): () => void {
  install();
  interruptsIgnored++;
  const quit = () => {};
  process.on("SIGQUIT", quit);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    interruptsIgnored--;
    process.removeListener("SIGQUIT", quit);
  };
}

/**
 * Hands SIGINT, SIGTERM and SIGHUP to `fn` until the returned function is called: while a child runs
 * with decrypted secrets, this process must outlive it to remove the plaintext, so a signal is
 * passed on to the child instead of ending this process.
 */
export function forwardSignals(fn: (sig: NodeJS.Signals) => void): () => void {
  install();
  forwarder = fn;
  const extra: NodeJS.Signals[] = ["SIGQUIT", "SIGUSR1", "SIGUSR2"];
  const handlers = extra.map((sig) => [sig, () => fn(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  return () => {
    if (forwarder === fn) forwarder = undefined;
    for (const [sig, h] of handlers) process.removeListener(sig, h);
  };
}

/** Runs `fn` if the process exits or is interrupted before the returned release function is called. */
export function registerCleanup(fn: Cleanup): () => void {
  install();
  cleanups.add(fn);
  return () => {
    cleanups.delete(fn);
  };
}

/** Overwrites a file with random bytes, flushes, then deletes it. */
export function shredFile(path: string): void {
  let size = 0;
  try {
    size = statSync(path).size;
  } catch {
    return;
  }
  try {
    const fd = openSync(path, "r+");
    try {
      for (let off = 0; off < size; off += 65536) {
        const n = Math.min(65536, size - off);
        writeSync(fd, randomBytes(n), 0, n, off);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(path, { force: true });
  }
}

/**
 * Replaces `path` with `content` via a temp file in the same directory and a rename, so readers see
 * the old or the new file, never a partial one. The temp file is removed on any failure.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array, opts: { mode?: number } = {}): void {
  const dir = dirname(path);
  removeStaleTempFiles(dir);
  // The pid in the name lets a later run tell a killed writer's leftover from a live writer's file.
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let mode = opts.mode;
  if (mode === undefined) {
    try {
      mode = statSync(path).mode & 0o777;
    } catch {
      mode = 0o644;
    }
  }
  const release = registerCleanup(() => rmSync(tmp, { force: true }));
  try {
    const fd = openSync(tmp, "wx", mode);
    try {
      const buf = typeof content === "string" ? Buffer.from(content, "utf8") : content;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    release();
  }
  try {
    const dfd = openSync(dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Directory fsync is not possible everywhere; the rename already happened.
  }
}

/** True when no process `pid` exists here; EPERM means it exists under another user. */
export function pidIsDead(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

const TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/**
 * Removes the temp files of atomic writes in `dir` whose writer is no longer running (killed with
 * SIGKILL, or the machine lost power), and says so: they hold a partial file. A live writer's temp
 * file is left alone.
 */
export function removeStaleTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = TEMP_NAME.exec(n);
    if (!m || !pidIsDead(Number(m[2]))) continue;
    const p = join(dir, n);
    try {
      if (!lstatSync(p).isFile()) continue;
      rmSync(p, { force: true });
    } catch {
      continue;
    }
    removed.push(p);
    console.error(`removed ${p}: a partial write of ${m[1]} left by pid ${m[2]}, which is no longer running`);
  }
  return removed;
}

/** Temp files a failed atomic write could have left (used by tests and `verify`). */
export function leftoverTempFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => /^\..+\.[0-9a-f]{12}\.tmp$/.test(n));
}

/** Prefers RAM-backed /dev/shm so decrypted text never reaches a disk. */
export function scratchBase(): string {
  // An explicit place wins (a RAM disk elsewhere; tests keep their own so parallel runs do not sweep it).
  const given = process.env.HOMELAB_SECRETS_SCRATCH_DIR;
  if (given) return given;
  for (const d of ["/dev/shm"]) {
    try {
      accessSync(d, constants.W_OK);
      return d;
    } catch {
      // Not available here; fall through.
    }
  }
  return tmpdir();
}

const SCRATCH_PREFIX = "homelab-secrets-";
const SCRATCH_NAME = /^homelab-secrets-(\d+)-[A-Za-z0-9]{6}$/;

/**
 * Shreds and removes the scratch directories (decrypted plaintext) of secrets commands that were
 * killed before they could clean up (SIGKILL, power loss), and says so on stderr. The pid in the
 * directory name tells a dead owner from a live one; only this user's directories are touched.
 */
export function removeStaleScratch(bases: readonly string[] = [...new Set([scratchBase(), tmpdir()])]): string[] {
  const removed: string[] = [];
  const uid = process.getuid?.();
  for (const base of bases) {
    let names: string[];
    try {
      names = readdirSync(base);
    } catch {
      continue;
    }
    for (const n of names) {
      const m = SCRATCH_NAME.exec(n);
      if (!m || !pidIsDead(Number(m[1]))) continue;
      const dir = join(base, n);
      try {
        const st = lstatSync(dir);
        if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
        let files = 0;
        for (const f of readdirSync(dir)) {
          const fp = join(dir, f);
          // Only regular files are overwritten: opening a FIFO would block.
          if (lstatSync(fp).isFile()) {
            shredFile(fp);
            files++;
          } else rmSync(fp, { recursive: true, force: true });
        }
        rmSync(dir, { recursive: true, force: true });
        removed.push(dir);
        console.error(`removed ${dir}: decrypted scratch files of pid ${m[1]}, which was killed before cleaning up (${files} file${files === 1 ? "" : "s"} shredded)`);
      } catch {
        // Gone meanwhile, or not ours to remove.
      }
    }
  }
  return removed;
}

/**
 * A directory only this user can read, for plaintext that an editor must see. Every file in it is
 * shredded on dispose, on process exit and on SIGINT/SIGTERM/SIGHUP.
 */
export class PrivateScratch {
  readonly dir: string;
  private readonly release: () => void;
  private disposed = false;

  constructor(base: string = scratchBase()) {
    removeStaleScratch([base]);
    this.dir = mkdtempSync(join(base, `${SCRATCH_PREFIX}${process.pid}-`));
    chmodSync(this.dir, 0o700);
    this.release = registerCleanup(() => this.wipe());
  }

  /** Writes a 0600 file and returns its path. */
  write(name: string, content: string | Uint8Array): string {
    const p = join(this.dir, basename(name));
    const fd = openSync(p, "wx", 0o600);
    try {
      if (typeof content === "string") writeSync(fd, content);
      else writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return p;
  }

  private wipe(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (existsSync(this.dir)) {
      for (const n of readdirSync(this.dir)) shredFile(join(this.dir, n));
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  dispose(): void {
    this.wipe();
    this.release();
  }
}

/** Unlinks a file if it exists. */
export function removeIfExists(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
