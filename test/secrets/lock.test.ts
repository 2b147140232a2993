/** Concurrent writers of one secrets file: every write lands or fails loudly (src/secrets/lock.ts). */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO, withSopsWorkspace, type CliResult } from "./helpers.ts";

const FILE = "app.sops.yaml";
const LOCK = ".app.sops.yaml.lock";

/** `homelab secrets …` as a real process, the value piped on stdin. */
function runAsync(args: string[], cwd: string, env: NodeJS.ProcessEnv, input: string): Promise<CliResult> {
  const child = spawn(process.execPath, [join(REPO, "bin", "homelab.mjs"), "secrets", ...args], { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  child.stdin.end(input);
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

/** A pid that certainly ran on this host and is certainly gone. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

describe("secrets write lock", () => {
  it("N concurrent `secrets set` of different keys on one file: every one lands", async () => {
    await withSopsWorkspace(async (ws) => {
      assert.equal(ws.run(["set", FILE, "seed"], { input: "s\n" }).code, 0);
      const n = 6;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) => runAsync(["set", FILE, `k${i}`], ws.dir, ws.env, `value-${i}\n`)),
      );
      for (const r of results) assert.equal(r.code, 0, r.stderr);
      const dec = ws.run(["decrypt", FILE]);
      assert.equal(dec.code, 0, dec.stderr);
      for (let i = 0; i < n; i++) assert.match(dec.stdout, new RegExp(`^k${i}: value-${i}$`, "m"), `k${i} was lost:\n${dec.stdout}`);
      assert.match(dec.stdout, /^seed: s$/m);
      assert.equal(existsSync(join(ws.dir, LOCK)), false, "the lock is released");
    });
  });

  it("a lock held by a live process: clear failure naming the lock file and its pid, non-zero exit, file untouched", async () => {
    await withSopsWorkspace(async (ws) => {
      assert.equal(ws.run(["set", FILE, "a"], { input: "1\n" }).code, 0);
      const before = readFileSync(join(ws.dir, FILE));
      writeFileSync(join(ws.dir, LOCK), JSON.stringify({ pid: process.pid, host: hostname(), time: new Date().toISOString() }));
      for (const args of [["set", FILE, "b"], ["unset", FILE, "a"], ["rotate", FILE], ["updatekeys", FILE]]) {
        const r = ws.run(args, { input: "2\n", env: { HOMELAB_SECRETS_LOCK_TIMEOUT: "1" } });
        assert.notEqual(r.code, 0, `${args[0]}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`${LOCK.replace(/\./g, "\\.")} is held by pid ${process.pid} on `), `${args[0]}: ${r.stderr}`);
        assert.match(r.stderr, /waited 1 s, nothing was written/);
        assert.ok(readFileSync(join(ws.dir, FILE)).equals(before), `${args[0]} changed the file`);
      }
      assert.ok(existsSync(join(ws.dir, LOCK)), "someone else's lock is left alone");
    });
  });

  it("encrypt in place waits for the lock too", async () => {
    await withSopsWorkspace(async (ws) => {
      writeFileSync(join(ws.dir, FILE), "a: 1\n");
      writeFileSync(join(ws.dir, LOCK), JSON.stringify({ pid: process.pid, host: hostname(), time: new Date().toISOString() }));
      const r = ws.run(["encrypt", FILE], { env: { HOMELAB_SECRETS_LOCK_TIMEOUT: "0.5" } });
      assert.notEqual(r.code, 0, r.stderr);
      assert.match(r.stderr, /is held by pid/);
      assert.equal(readFileSync(join(ws.dir, FILE), "utf8"), "a: 1\n");
    });
  });

  it("a lock whose pid is dead is taken over, and says so", async () => {
    await withSopsWorkspace(async (ws) => {
      assert.equal(ws.run(["set", FILE, "a"], { input: "1\n" }).code, 0);
      const pid = deadPid();
      writeFileSync(join(ws.dir, LOCK), JSON.stringify({ pid, host: hostname(), time: "2026-01-01T00:00:00.000Z" }));
      const r = ws.run(["set", FILE, "b"], { input: "2\n", env: { HOMELAB_SECRETS_LOCK_TIMEOUT: "5" } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`removed a stale lock .*${LOCK.replace(/\./g, "\\.")} left by pid ${pid}`));
      assert.match(ws.run(["decrypt", FILE]).stdout, /^b: "?2"?$/m);
      assert.equal(existsSync(join(ws.dir, LOCK)), false);
    });
  });
});
