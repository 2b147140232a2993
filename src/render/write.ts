/**
 * The only code that writes the rendered tree. A build replaces each managed folder as a whole: it is written
 * next to the old one and swapped in with renames, so a failure never leaves a half-written tree.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import type { RenderedFile } from "./render.ts";

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

export interface TreeDiff {
  readonly added: string[];
  readonly changed: string[];
  readonly removed: string[];
}

/** Compares the planned files of the managed roots (e.g. `gitops`) with what is on disk. */
export function diffTree(root: string, managed: readonly string[], files: readonly RenderedFile[]): TreeDiff {
  const want = new Map(files.map((f) => [f.path, f.content]));
  const diff: TreeDiff = { added: [], changed: [], removed: [] };
  const have = new Set(managed.flatMap((m) => listFiles(join(root, m)).map((p) => relative(root, p).split("\\").join("/"))));
  for (const [path, content] of want) {
    if (!have.has(path)) diff.added.push(path);
    else if (readFileSync(join(root, path), "utf8") !== content) diff.changed.push(path);
  }
  for (const path of have) if (!want.has(path)) diff.removed.push(path);
  for (const l of Object.values(diff)) l.sort();
  return diff;
}

export function isClean(d: TreeDiff): boolean {
  return d.added.length + d.changed.length + d.removed.length === 0;
}

/** Replaces each managed root with exactly the planned files. */
export function writeTree(root: string, managed: readonly string[], files: readonly RenderedFile[]): void {
  for (const m of managed) {
    const target = join(root, m);
    const staging = join(root, `.${m}.new-${process.pid}`);
    const old = join(root, `.${m}.old-${process.pid}`);
    rmSync(staging, { recursive: true, force: true });
    try {
      for (const f of files) {
        if (!f.path.startsWith(`${m}/`)) continue;
        const p = join(staging, f.path.slice(m.length + 1));
        mkdirSync(dirname(p), { recursive: true });
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
