/**
 * The only code that writes the rendered tree. A build replaces each managed folder as a whole: it is written
 * next to the old one and swapped in with renames, so a failure never leaves a half-written tree.
 */
import { hash } from "node:crypto";
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from "node:fs";
import { dirname, join, relative } from "node:path";
import type { RenderedFile } from "./render.ts";

function listFiles(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  // The entries' types come with the listing: no stat per file (18,000 of them at 1000 apps: 130 ms).
  // A link is followed, as before, to tell a linked folder from a file.
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() || (e.isSymbolicLink() && statSync(p).isDirectory())) listFiles(p, out);
    else out.push(p);
  }
  return out;
}

export interface TreeDiff {
  readonly added: string[];
  readonly changed: string[];
  readonly removed: string[];
}

/**
 * What the last build left in the tree: per file, its stat (device, inode, size, modification and change
 * times in milliseconds to a fraction of a microsecond) and the sha1 of the content it planned there, and
 * the time the record was made.
 * A file whose stat is still the recorded one holds the recorded content, unless it was written again
 * within the clock's granularity of being recorded (git's "racily clean" files): those, changed within
 * `RACY_MS` before the record, are read like any file without a record.
 */
export interface TreeRecord {
  /** When the record was made (its file's own modification time, the clock file times come from). */
  readonly madeMs: number;
  readonly files: ReadonlyMap<string, { readonly stat: string; readonly sha1: string }>;
}

const RACY_MS = 2000;

const statKey = (st: Stats) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
const sha1 = (content: string) => hash("sha1", content, "base64");

export interface TreeDiffWithRecord extends TreeDiff {
  /** Each unchanged file's stat and planned content's sha1, for the next record. */
  readonly seen: Map<string, { stat: string; sha1: string }>;
  /** How many files the record vouched for (not read back). */
  recorded: number;
}

/**
 * Compares the planned files of the managed roots (e.g. `gitops`) with what is on disk. Every root is listed,
 * so a missing or stray file is always found. A file is read back unless `record` shows it unchanged since
 * the last build (same stat, same planned content, not racy): at 1000 apps reading 18,000 files back
 * cost more than their stats and the hashes of the planned contents.
 */
export function diffTree(root: string, managed: readonly string[], files: readonly RenderedFile[], record?: TreeRecord): TreeDiffWithRecord {
  const want = new Map(files.map((f) => [f.path, f.content]));
  const diff: TreeDiffWithRecord = { added: [], changed: [], removed: [], seen: new Map(), recorded: 0 };
  const have = new Set(managed.flatMap((m) => listFiles(join(root, m)).map((p) => relative(root, p).split("\\").join("/"))));
  for (const [path, content] of want) {
    if (!have.has(path)) {
      diff.added.push(path);
      continue;
    }
    const abs = join(root, path);
    // Undefined when gone since the listing, or a dangling link: read below, which reports it as before.
    const st = statSync(abs, { throwIfNoEntry: false });
    const known = st && record?.files.get(path);
    const digest = sha1(content);
    const vouched = st !== undefined && known !== undefined && known.stat === statKey(st) && known.sha1 === digest && st.mtimeMs < record!.madeMs - RACY_MS && st.ctimeMs < record!.madeMs - RACY_MS;
    if (vouched) diff.recorded++;
    const same = vouched || readFileSync(abs, "utf8") === content;
    if (!same) diff.changed.push(path);
    else if (st) diff.seen.set(path, { stat: statKey(st), sha1: digest });
  }
  for (const path of have) if (!want.has(path)) diff.removed.push(path);
  for (const l of [diff.added, diff.changed, diff.removed]) l.sort();
  return diff;
}

/** The record of the tree in `file` (JSON), or undefined when there is none or it cannot be read. */
export function readTreeRecord(file: string): TreeRecord | undefined {
  try {
    const made = statSync(file).mtimeMs;
    const json = JSON.parse(readFileSync(file, "utf8")) as { version?: number; files?: Record<string, [string, string]> };
    if (json.version !== 1 || !json.files) return undefined;
    return { madeMs: made, files: new Map(Object.entries(json.files).map(([p, [stat, digest]]) => [p, { stat, sha1: digest }])) };
  } catch {
    return undefined;
  }
}

/**
 * Records the tree as a build left it, from `diff` (the {@link diffTree} that compared it): when the build
 * wrote nothing, the stats and digests `diff` saw; after a write (`written`), every planned file is stat'ed
 * again (a rename or a hard link changes a file's change time), and only the contents `diff` did not see
 * unchanged are hashed. Best effort: without a record the next build reads the tree back, as it always did.
 */
export function writeTreeRecord(file: string, root: string, files: readonly RenderedFile[], diff: Pick<TreeDiffWithRecord, "seen">, written: boolean): void {
  try {
    const out: Record<string, [string, string]> = {};
    for (const f of files) {
      const known = diff.seen.get(f.path);
      if (written) out[f.path] = [statKey(statSync(join(root, f.path))), known?.sha1 ?? sha1(f.content)];
      else if (known) out[f.path] = [known.stat, known.sha1];
    }
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ version: 1, files: out }));
    renameSync(tmp, file);
  } catch {
    // not worth failing a build over
  }
}

export function isClean(d: TreeDiff): boolean {
  return d.added.length + d.changed.length + d.removed.length === 0;
}

/**
 * Replaces each managed root with exactly the planned files. `unchanged` names files whose content on disk
 * is already the planned one (from `diffTree`): those are hard-linked into the new tree instead of written
 * again, so a build that changes a few files of a large tree writes those few (where the file system
 * cannot link, they are written).
 */
export function writeTree(root: string, managed: readonly string[], files: readonly RenderedFile[], unchanged: ReadonlySet<string> = new Set()): void {
  for (const m of managed) {
    const target = join(root, m);
    const staging = join(root, `.${m}.new-${process.pid}`);
    const old = join(root, `.${m}.old-${process.pid}`);
    rmSync(staging, { recursive: true, force: true });
    try {
      // One mkdir per folder, not per file (a 1000-app tree has 18,000 files in 1,000 folders).
      const made = new Set<string>();
      for (const f of files) {
        if (!f.path.startsWith(`${m}/`)) continue;
        const p = join(staging, f.path.slice(m.length + 1));
        const dir = dirname(p);
        if (!made.has(dir)) {
          mkdirSync(dir, { recursive: true });
          made.add(dir);
        }
        if (unchanged.has(f.path) && linked(join(root, f.path), p)) continue;
        writeFileSync(p, f.content);
      }
      mkdirSync(staging, { recursive: true });
      if (existsSync(target)) renameSync(target, old);
      renameSync(staging, target);
      rmSync(old, { recursive: true, force: true });
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      if (existsSync(old) && !existsSync(target)) renameSync(old, target);
      throw err;
    }
  }
}

/** Hard-links `from` as `to`; false where the file system refuses (the caller writes the file then). */
function linked(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch {
    return false;
  }
}
