/**
 * The tree writer: each managed folder is replaced whole (staged, then swapped in), and files whose
 * content on disk is already the planned one are carried over as hard links instead of written again.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { diffTree, writeTree } from "../../src/render/write.ts";
import type { RenderedFile } from "../../src/render/render.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function root(): string {
  const d = mkdtempSync(join(tmpdir(), "homelab-write-"));
  dirs.push(d);
  return d;
}

/** What the build passes: every planned file that diffTree found neither added nor changed. */
function unchangedOf(r: string, files: readonly RenderedFile[]): Set<string> {
  const d = diffTree(r, ["gitops"], files);
  const touched = new Set([...d.added, ...d.changed]);
  return new Set(files.map((f) => f.path).filter((p) => !touched.has(p)));
}

describe("writeTree", () => {
  it("writes what changed and links what did not, into a folder swapped in whole", () => {
    const r = root();
    const first: RenderedFile[] = [
      { path: "gitops/a/one.yaml", content: "one\n" },
      { path: "gitops/a/two.yaml", content: "two\n" },
      { path: "gitops/b/three.yaml", content: "three\n" },
      { path: "gitops/b/gone.yaml", content: "gone\n" },
    ];
    writeTree(r, ["gitops"], first, unchangedOf(r, first));
    const before = (p: string) => statSync(join(r, p)).ino;
    const ino = { one: before("gitops/a/one.yaml"), two: before("gitops/a/two.yaml"), three: before("gitops/b/three.yaml") };

    const second: RenderedFile[] = [
      { path: "gitops/a/one.yaml", content: "one\n" },
      { path: "gitops/a/two.yaml", content: "two, changed\n" },
      { path: "gitops/b/three.yaml", content: "three\n" },
      { path: "gitops/c/new.yaml", content: "new\n" },
    ];
    const unchanged = unchangedOf(r, second);
    assert.deepEqual([...unchanged].sort(), ["gitops/a/one.yaml", "gitops/b/three.yaml"]);
    writeTree(r, ["gitops"], second, unchanged);

    // The unchanged files are the same files (linked over), the changed one is new.
    assert.equal(statSync(join(r, "gitops/a/one.yaml")).ino, ino.one);
    assert.equal(statSync(join(r, "gitops/b/three.yaml")).ino, ino.three);
    assert.notEqual(statSync(join(r, "gitops/a/two.yaml")).ino, ino.two);
    // Exactly the planned files, with the planned content, one link each once the old tree is gone.
    for (const f of second) {
      assert.equal(readFileSync(join(r, f.path), "utf8"), f.content, f.path);
      assert.equal(statSync(join(r, f.path)).nlink, 1, f.path);
    }
    assert.equal(existsSync(join(r, "gitops/b/gone.yaml")), false);
    assert.deepEqual(readdirSync(r), ["gitops"], "no staging folder left behind");
    assert.equal(diffTree(r, ["gitops"], second).changed.length, 0);
  });

  it("writes a file named unchanged that cannot be linked (not on disk)", () => {
    const r = root();
    const files: RenderedFile[] = [{ path: "gitops/a/one.yaml", content: "one\n" }];
    writeTree(r, ["gitops"], files, new Set(["gitops/a/one.yaml"]));
    assert.equal(readFileSync(join(r, "gitops/a/one.yaml"), "utf8"), "one\n");
  });
});
