/**
 * A lock file next to a secrets file, held for the whole read-modify-write of a writing command, so
 * two concurrent `homelab secrets set` on one file cannot both read the old text and the second
 * write silently drop the first. The lock is `<dir>/.<name>.lock`, created with O_EXCL, holding the
 * owner's pid, host and start time; a lock whose owner is gone (same host, dead pid) is taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { UserError } from "../errors.ts";
import { pidIsDead, registerCleanup } from "./files.ts";

/** Seconds a writer waits for another one; HOMELAB_SECRETS_LOCK_TIMEOUT overrides it. */
export const DEFAULT_LOCK_TIMEOUT_S = 10;

/** Exit code when the lock cannot be had: sops has none, 1 is "the file cannot be handled now". */
export class LockBusyError extends UserError {
  constructor(message: string) {
    super(message, 1);
    this.name = "LockBusyError";
  }
}

export function lockPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.lock`);
}

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly time: string;
}

function readHolder(lock: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(lock, "utf8")) as Partial<Holder>;
    if (typeof h.pid === "number" && typeof h.host === "string" && typeof h.time === "string") return h as Holder;
  } catch {
    // Gone, or written only halfway (the owner died between create and write).
  }
  return undefined;
}


function timeoutSeconds(): number {
  const env = process.env.HOMELAB_SECRETS_LOCK_TIMEOUT;
  const n = env === undefined || env === "" ? NaN : Number(env);
  return Number.isFinite(n) && n >= 0 ? n : DEFAULT_LOCK_TIMEOUT_S;
}

function tryCreate(lock: string): boolean {
  let fd: number;
  try {
    fd = openSync(lock, "wx", 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new UserError(`cannot create the lock file ${lock}: ${(e as Error).message}`);
  }
  try {
    writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), time: new Date().toISOString() }) + "\n");
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Removes `lock` when its owner is gone: a dead pid on this host, or an unreadable lock older than
 * the timeout (its owner died before writing it). The text is read again just before the unlink so
 * a lock another process has taken over meanwhile is left alone.
 */
function takeOverStale(lock: string, shown: string, timeoutS: number): boolean {
  const h = readHolder(lock);
  if (h) {
    if (h.host !== hostname() || !pidIsDead(h.pid)) return false;
    const again = readHolder(lock);
    if (!again || again.pid !== h.pid || again.time !== h.time) return false;
    console.error(`${shown}: removed a stale lock ${lock} left by pid ${h.pid} (no longer running, since ${h.time})`);
  } else {
    let age: number;
    try {
      age = Date.now() - statSync(lock).mtimeMs;
    } catch {
      return true; // released meanwhile
    }
    if (age < timeoutS * 1000) return false;
    console.error(`${shown}: removed an unreadable stale lock ${lock}`);
  }
  try {
    unlinkSync(lock);
  } catch {
    // Another waiter removed it first.
  }
  return true;
}

/**
 * Runs `fn` holding the lock of `target`. Waits up to the timeout for another writer, then fails
 * naming the lock file and the pid that holds it; nothing is read or written before the lock is held.
 */
export async function withFileLock<T>(target: string, shown: string, fn: () => Promise<T>): Promise<T> {
  const lock = lockPathFor(target);
  mkdirSync(dirname(lock), { recursive: true });
  const timeoutS = timeoutSeconds();
  const deadline = Date.now() + timeoutS * 1000;
  for (let wait = 20; !tryCreate(lock); wait = Math.min(wait * 2, 200)) {
    if (takeOverStale(lock, shown, timeoutS)) continue;
    if (Date.now() >= deadline) {
      const h = readHolder(lock);
      const who = h ? `pid ${h.pid} on ${h.host} since ${h.time}` : "an unknown process";
      throw new LockBusyError(
        `${shown}: another homelab secrets command is writing it: ${lock} is held by ${who}; waited ${timeoutS} s, nothing was written. ` +
          `If that process is gone, remove ${lock}.`,
      );
    }
    await new Promise((r) => setTimeout(r, wait + Math.floor(Math.random() * wait)));
  }
  const release = () => {
    // Only our own lock: never remove one a later writer took over.
    if (readHolder(lock)?.pid === process.pid) {
      try {
        unlinkSync(lock);
      } catch {
        // Already gone.
      }
    }
  };
  const unregister = registerCleanup(release);
  try {
    return await fn();
  } finally {
    release();
    unregister();
  }
}
