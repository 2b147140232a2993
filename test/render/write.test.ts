/**
 * The tree writer: each managed folder is replaced whole (staged, then swapped in), and files whose
 * content on disk is already the planned one are carried over as hard links instead of written again.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { diffTree, readTreeRecord, writeTree, writeTreeRecord, type TreeRecord } from "../../src/render/write.ts";
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

describe("the tree record: files whose stat the last build recorded are not read back", () => {
  const files: RenderedFile[] = [
    { path: "gitops/a/one.yaml", content: "one\n" },
    { path: "gitops/a/two.yaml", content: "two\n" },
    { path: "gitops/b/three.yaml", content: "three\n" },
  ];
  /**
   * File times come from a coarse clock (a few milliseconds): an edit right after the recorded stat could
   * leave it as it was, which is what the racy rule covers. The tests that move the record's time past that
   * rule wait for the clock to move on before an edit.
   */
  const pause = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  /** Moves every file's times `ms` into the past, as if the tree had been written then. */
  function age(r: string, ms: number): void {
    const when = new Date(Date.now() - ms);
    for (const f of files) utimesSync(join(r, f.path), when, when);
  }
  function recorded(r: string, madeAgoMs = 0): TreeRecord {
    const file = join(r, "record.json");
    writeTreeRecord(file, r, files, { seen: new Map() }, true);
    const rec = readTreeRecord(file)!;
    return { ...rec, madeMs: Date.now() - madeAgoMs };
  }

  it("vouches for every file it recorded, and finds a missing, a stray and an edited file of the same size", () => {
    const r = root();
    writeTree(r, ["gitops"], files);
    // Change times cannot be set: the record is made as if well after they were (not racy).
    const rec = { ...recorded(r), madeMs: Date.now() + 10_000 };
    const clean = diffTree(r, ["gitops"], files, rec);
    assert.deepEqual([clean.added, clean.changed, clean.removed, clean.recorded], [[], [], [], 3]);
    pause();
    writeFileSync(join(r, "gitops/a/one.yaml"), "0ne\n");
    rmSync(join(r, "gitops/a/two.yaml"));
    writeFileSync(join(r, "gitops/b/stray.yaml"), "x\n");
    const rec2 = { ...rec, madeMs: Date.now() + 10_000 };
    const d = diffTree(r, ["gitops"], files, rec2);
    assert.deepEqual([d.added, d.changed, d.removed, d.recorded], [["gitops/a/two.yaml"], ["gitops/a/one.yaml"], ["gitops/b/stray.yaml"], 1]);
  });

  it("after a write, records every file's new stat with the digests the diff saw (hard-linked files get a new change time)", () => {
    const r = root();
    writeTree(r, ["gitops"], files);
    const before = diffTree(r, ["gitops"], files);
    assert.equal(before.seen.size, files.length);
    pause();
    // The second write links the unchanged files into a fresh tree: their stats move, their contents not.
    writeTree(r, ["gitops"], files, new Set(files.map((f) => f.path)));
    const file = join(r, "record.json");
    writeTreeRecord(file, r, files, before, true);
    const rec = { ...readTreeRecord(file)!, madeMs: Date.now() + 10_000 };
    assert.equal(diffTree(r, ["gitops"], files, rec).recorded, files.length);
    // The stats the diff saw before the write would not have vouched for them.
    writeTreeRecord(file, r, files, before, false);
    assert.equal(diffTree(r, ["gitops"], files, { ...readTreeRecord(file)!, madeMs: Date.now() + 10_000 }).recorded, 0);
  });

  it("finds an edit that put the recorded modification time back (the change time moved)", () => {
    const r = root();
    writeTree(r, ["gitops"], files);
    age(r, 60_000);
    const before = statSync(join(r, "gitops/a/one.yaml"));
    const rec = { ...recorded(r), madeMs: Date.now() + 10_000 };
    pause();
    writeFileSync(join(r, "gitops/a/one.yaml"), "0ne\n");
    utimesSync(join(r, "gitops/a/one.yaml"), before.atime, before.mtime);
    assert.deepEqual(diffTree(r, ["gitops"], files, rec).changed, ["gitops/a/one.yaml"]);
  });

  it("takes a recorded file's content from the record, except a file changed within two seconds of the record (racy): that one is read", () => {
    const r = root();
    writeTree(r, ["gitops"], files);
    // The record claims other content than the disk holds, with the disk's own stat: trusted, it hides the
    // difference; read, it does not.
    const claim = (rec: TreeRecord): TreeRecord => {
      const m = new Map(rec.files);
      m.set("gitops/a/one.yaml", { ...m.get("gitops/a/one.yaml")!, sha1: createHash("sha1").update("one\n").digest("base64") });
      return { ...rec, files: m };
    };
    const planned = files.map((f) => (f.path === "gitops/a/one.yaml" ? { ...f, content: "one\n" } : f));
    writeFileSync(join(r, "gitops/a/one.yaml"), "ONE\n");
    const trusted = claim({ ...recorded(r), madeMs: Date.now() + 10_000 });
    assert.deepEqual(diffTree(r, ["gitops"], planned, trusted).changed, []);
    const racy = claim({ ...recorded(r), madeMs: statSync(join(r, "gitops/a/one.yaml")).mtimeMs + 1 });
    assert.deepEqual(diffTree(r, ["gitops"], planned, racy).changed, ["gitops/a/one.yaml"]);
  });

  it("reads every file without a record, or with one it cannot read", () => {
    const r = root();
    writeTree(r, ["gitops"], files);
    assert.equal(diffTree(r, ["gitops"], files).recorded, 0);
    writeFileSync(join(r, "broken.json"), "{");
    assert.equal(readTreeRecord(join(r, "broken.json")), undefined);
    assert.equal(readTreeRecord(join(r, "absent.json")), undefined);
  });
});
