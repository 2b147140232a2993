/** No plaintext and no half-written file is left behind: atomic writes, private scratch space, shredding, signals. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PrivateScratch, leftoverTempFiles, shredFile, writeFileAtomic } from "../../src/secrets/files.ts";
import { REPO, tempDir } from "./helpers.ts";

describe("writeFileAtomic", () => {
  it("replaces the file and keeps its mode", () => {
    const { dir, cleanup } = tempDir();
    try {
      const p = join(dir, "x.sops.yaml");
      writeFileSync(p, "old\n", { mode: 0o640 });
      writeFileAtomic(p, "new\n");
      assert.equal(readFileSync(p, "utf8"), "new\n");
      assert.equal(statSync(p).mode & 0o777, 0o640);
      assert.deepEqual(leftoverTempFiles(dir), []);
    } finally {
      cleanup();
    }
  });

  it("a failing write leaves the target untouched and no temp file behind", () => {
    const { dir, cleanup } = tempDir();
    try {
      // The rename onto a non-empty directory fails after the temp file was fully written.
      const target = join(dir, "target.sops.yaml");
      mkdirSync(target);
      writeFileSync(join(target, "keep"), "x");
      assert.throws(() => writeFileAtomic(target, "ciphertext\n"), /EISDIR|ENOTEMPTY|EEXIST|EPERM/);
      assert.deepEqual(leftoverTempFiles(dir), []);
      assert.deepEqual(readdirSync(dir), ["target.sops.yaml"]);
      assert.deepEqual(readdirSync(target), ["keep"]);
    } finally {
      cleanup();
    }
  });

  it("leftoverTempFiles recognises the temp naming (so the check above can fail)", () => {
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(join(dir, ".a.sops.yaml.0123456789ab.tmp"), "x");
      assert.deepEqual(leftoverTempFiles(dir), [".a.sops.yaml.0123456789ab.tmp"]);
    } finally {
      cleanup();
    }
  });
});

describe("private scratch space", () => {
  it("is 0700 with 0600 files, and dispose removes everything", () => {
    const s = new PrivateScratch();
    const p = s.write("secret.yaml", "password: pw\n");
    assert.equal(statSync(s.dir).mode & 0o777, 0o700);
    assert.equal(statSync(p).mode & 0o777, 0o600);
    s.dispose();
    assert.equal(existsSync(s.dir), false);
  });

  it("shredding overwrites the bytes before unlinking", () => {
    const { dir, cleanup } = tempDir();
    try {
      const p = join(dir, "plain.txt");
      const other = join(dir, "other-name");
      writeFileSync(p, "the plaintext secret value");
      // A second name for the same inode shows what happened to the data.
      linkSync(p, other);
      shredFile(p);
      assert.equal(existsSync(p), false);
      const left = readFileSync(other);
      assert.equal(left.length, "the plaintext secret value".length);
      assert.ok(!left.toString("latin1").includes("plaintext"));
    } finally {
      cleanup();
    }
  });

  it("SIGTERM while plaintext is on disk removes it and exits 143", async () => {
    const script = [
      `import { PrivateScratch } from ${JSON.stringify(join(REPO, "src/secrets/files.ts"))};`,
      "const s = new PrivateScratch();",
      "console.log(s.write('x.yaml', 'token: t0p-s3cret\\n'));",
      "setInterval(() => {}, 1000);",
    ].join("\n");
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] });
    const path = await new Promise<string>((resolve) => child.stdout.once("data", (d) => resolve(String(d).trim())));
    assert.equal(readFileSync(path, "utf8"), "token: t0p-s3cret\n");
    const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    assert.equal(await exit, 143);
    assert.equal(existsSync(path), false);
    assert.equal(existsSync(join(path, "..")), false);
  });
});
