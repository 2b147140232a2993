/**
 * The record of the last successful `homelab build` or `build --check`, so that a check whose inputs are
 * byte for byte the same answers at once instead of rendering and validating everything again.
 *
 * The fingerprint covers everything a build can read: every file of the checkout (config and whatever it
 * imports, versions.yaml, the chart lock, secrets/, the rendered tree itself) except node_modules/, .git/
 * and the CLI bundle; the CLI's own code (src/ is part of the checkout; package-lock.json pins the rest);
 * the Node version; the day (policy waivers expire); the build options; and the environment variables the
 * build reads. Any difference, or no record, means a full run. The record lives in
 * node_modules/.cache/homelab/, which a fresh clone does not have.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SKIP = new Set(["node_modules", ".git", "dist"]);

/** Files whose content is known without reading them (what a build just wrote or found current), by path. */
type Known = ReadonlyMap<string, string>;

function walk(root: string, rel: string, hash: ReturnType<typeof createHash>, seen: Set<string>, known: Known = new Map()): void {
  const dir = join(root, rel);
  const real = realpathSync(dir);
  // A linked folder (a scratch checkout links src/) is walked once.
  if (seen.has(real)) return;
  seen.add(real);
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (!rel && (SKIP.has(e.name) || e.name.startsWith(".dist"))) continue;
    let isDir = e.isDirectory();
    if (e.isSymbolicLink()) {
      try {
        isDir = statSync(join(root, path)).isDirectory();
      } catch {
        isDir = false;
      }
    }
    if (isDir) {
      hash.update(`${path}/\0`);
      walk(root, path, hash, seen, known);
    } else if (e.isFile() || e.isSymbolicLink()) {
      const text = known.get(path);
      if (text !== undefined) {
        // The same bytes the file holds, hashed the same way, without reading 18,000 files back.
        hash.update(`${path}\0${Buffer.byteLength(text)}\0`).update(text);
        continue;
      }
      let data: Buffer;
      try {
        data = readFileSync(join(root, path));
      } catch {
        // A dangling link: its name still counts.
        data = Buffer.alloc(0);
      }
      hash.update(`${path}\0${data.length}\0`).update(data);
    }
  }
}

/**
 * The running CLI's own code: the bundle's record of its sources, or (run from the sources) src/ itself.
 * It matters when the CLI of one checkout builds another.
 */
function codeIdentity(hash: ReturnType<typeof createHash>): void {
  if (import.meta.url.endsWith(".ts")) {
    walk(fileURLToPath(new URL("../", import.meta.url)), "", hash, new Set());
    return;
  }
  for (const candidate of ["../inputs.json", "./inputs.json"]) {
    try {
      hash.update(readFileSync(new URL(candidate, import.meta.url)));
      return;
    } catch {
      // try the next
    }
  }
  hash.update(String(Math.random())); // unknown code: never reuse a record
}

/**
 * The fingerprint of a build's inputs in `root` with these options, on this day. `known` gives the content of
 * files the caller knows to be on disk exactly so (the rendered trees right after a build wrote or compared
 * them), which are then not read again.
 */
export function buildFingerprint(root: string, options: Readonly<Record<string, unknown>>, now = new Date(), known: Known = new Map()): string {
  const hash = createHash("sha256");
  const env = Object.entries(process.env)
    .filter(([k]) => k === "CI" || k.startsWith("HOMELAB_"))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  hash.update(JSON.stringify({ node: process.version, day: now.toISOString().slice(0, 10), options, env }));
  codeIdentity(hash);
  walk(root, "", hash, new Set(), known);
  return hash.digest("hex");
}

/** A file of this checkout's own in node_modules/.cache/homelab/: scratch checkouts may share a linked node_modules. */
export function checkoutCacheFile(root: string, name: string): string {
  const id = createHash("sha256").update(realpathSync(root)).digest("hex").slice(0, 16);
  return join(root, "node_modules", ".cache", "homelab", `${name}-${id}.json`);
}

function recordPath(root: string): string {
  return checkoutCacheFile(root, "last-build");
}

/** What a successful run printed, to print again when nothing changed. */
export interface BuildRecord {
  readonly warnings: readonly string[];
  readonly summary: string;
  readonly files: number;
  /** When the full run happened (ISO time). */
  readonly at: string;
}

/** The record of the last successful run with this fingerprint, if there was one. */
export function cachedResult(root: string, fingerprint: string): BuildRecord | undefined {
  try {
    const rec = JSON.parse(readFileSync(recordPath(root), "utf8")) as { fingerprint?: string; record?: BuildRecord };
    return rec.fingerprint === fingerprint && rec.record && typeof rec.record.summary === "string" ? rec.record : undefined;
  } catch {
    return undefined;
  }
}

/** Remembers a successful run; best effort (a read-only node_modules only costs the next run its speed). */
export function recordResult(root: string, fingerprint: string, record: BuildRecord): void {
  const path = recordPath(root);
  try {
    mkdirSync(join(path, ".."), { recursive: true });
    const tmp = `${path}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ fingerprint, record }) + "\n");
    renameSync(tmp, path);
  } catch {
    // not worth failing a build over
  }
}
