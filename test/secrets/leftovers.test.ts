/** What a SIGKILLed secrets command leaves behind is found, removed and reported by the next run (src/secrets/files.ts). */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";
import { REPO, withSopsWorkspace } from "./helpers.ts";

const FILE = "app.sops.yaml";

async function waitFor(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

describe("leftovers of killed secrets commands", () => {
  it("edit killed with SIGKILL while the editor runs: the next run shreds its plaintext scratch file and says so", async () => {
    await withSopsWorkspace(async (ws) => {
      assert.equal(ws.run(["set", FILE, "token"], { input: "plain-secret-value\n" }).code, 0);
      // A scratch place of this test's own: every secrets command sweeps the shared one, and other
      // test files run in parallel.
      const shm = join(ws.home, "shm");
      mkdirSync(shm, { mode: 0o700 });
      const env = { ...ws.env, HOMELAB_SECRETS_SCRATCH_DIR: shm };
      const mark = join(ws.home, "editor-started");
      const editor = join(ws.home, "slow-editor.sh");
      // The editor records its pid and the file it was given, then sleeps until killed.
      writeFileSync(editor, `#!/bin/sh\necho "$$ $1" > "${mark}.part" && mv "${mark}.part" "${mark}"\nexec sleep 120\n`);
      chmodSync(editor, 0o755);
      const child = spawn(process.execPath, [join(REPO, "bin", "homelab.mjs"), "secrets", "edit", FILE], {
        cwd: ws.dir,
        env: { ...env, EDITOR: editor },
        stdio: ["ignore", "ignore", "ignore"],
      });
      const exited = new Promise((r) => child.on("exit", r));
      let scratchDir = "";
      try {
        await waitFor("the editor", () => existsSync(mark));
        const [editorPid, scratchFile] = readFileSync(mark, "utf8").trim().split(" ") as [string, string];
        scratchDir = dirname(scratchFile);
        assert.match(basename(scratchDir), new RegExp(`^homelab-secrets-${child.pid}-`), "the scratch directory names its owner");
        assert.match(readFileSync(scratchFile, "utf8"), /plain-secret-value/);
        kill(child.pid!);
        await exited;
        kill(Number(editorPid));
        assert.ok(existsSync(scratchFile), "SIGKILL leaves the plaintext behind (what this test is about)");

        assert.equal(dirname(scratchDir), shm);
        const r = ws.run(["decrypt", FILE], { env: { HOMELAB_SECRETS_SCRATCH_DIR: shm } });
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stderr.includes(`removed ${scratchDir}: decrypted scratch files of pid ${child.pid}`), r.stderr);
        assert.match(r.stderr, /1 file shredded/);
        assert.equal(existsSync(scratchDir), false, "the stale scratch directory is gone");

        // The killed edit also left its lock: the next writer takes it over and says so.
        const s = ws.run(["set", FILE, "other"], { input: "x\n", env: { HOMELAB_SECRETS_LOCK_TIMEOUT: "5" } });
        assert.equal(s.code, 0, s.stderr);
        assert.match(s.stderr, new RegExp(`removed a stale lock .* left by pid ${child.pid}`));
      } finally {
        kill(child.pid!);
        if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
      }
    });
  });

  it("a live command's scratch directory is left alone", async () => {
    await withSopsWorkspace(async (ws) => {
      // This test process is alive: a directory named after it must survive another command's sweep.
      const mine = join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), `homelab-secrets-${process.pid}-abcdef`);
      try {
        writeFileSync(join(ws.dir, "x.yaml"), "a: 1\n");
        mkdirSync(mine, { mode: 0o700 });
        writeFileSync(join(mine, "f.yaml"), "a: b\n");
        const r = ws.run(["filestatus", "x.yaml"]);
        assert.ok(existsSync(join(mine, "f.yaml")), r.stderr);
        assert.ok(!r.stderr.includes(mine), r.stderr);
      } finally {
        rmSync(mine, { recursive: true, force: true });
      }
    });
  });

  it("the partial .tmp of a writer killed with SIGKILL is removed (and reported) by the next write; a live writer's is not", async () => {
    await withSopsWorkspace(async (ws) => {
      assert.equal(ws.run(["set", FILE, "a"], { input: "1\n" }).code, 0);
      // A real process that opens a temp file the way writeFileAtomic names it, writes part of it, and hangs.
      const script = `const fs=require("fs");const p=${JSON.stringify(ws.dir)}+"/.${FILE}."+process.pid+".0123456789ab.tmp";fs.writeFileSync(p,"sops:\\n  partial");fs.writeFileSync(p+".ready","");setInterval(()=>{},1000);`;
      const child = spawn(process.execPath, ["-e", script], { stdio: "ignore" });
      const exited = new Promise((r) => child.on("exit", r));
      const tmp = join(ws.dir, `.${FILE}.${child.pid}.0123456789ab.tmp`);
      try {
        await waitFor("the writer", () => existsSync(`${tmp}.ready`));
        rmSync(`${tmp}.ready`);
        const live = ws.run(["set", FILE, "b"], { input: "2\n" });
        assert.equal(live.code, 0, live.stderr);
        assert.ok(existsSync(tmp), "a running writer's temp file is not touched");
        kill(child.pid!);
        await exited;
        const r = ws.run(["set", FILE, "c"], { input: "3\n" });
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stderr.includes(`removed ${tmp}: a partial write of ${FILE} left by pid ${child.pid}, which is no longer running`), r.stderr);
        assert.equal(existsSync(tmp), false);
        assert.deepEqual(readdirSync(ws.dir).filter((n) => n.endsWith(".tmp")), []);
      } finally {
        kill(child.pid!);
      }
    });
  });
});
