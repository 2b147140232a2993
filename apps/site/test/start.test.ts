/**
 * The site half of `npm start`: generates, serves on localhost, prints the URL, keeps serving until
 * SIGTERM, and exits cleanly. Run as its own process, as scripts/start.sh runs it.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { REPO } from "../../../test/helpers.ts";

const START = join(REPO, "apps/site/src/start.ts");
const dir = mkdtempSync(join(tmpdir(), "site-start-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("npm start's site step", () => {
  it("generates and serves the site on localhost, prints its URL and stops on SIGTERM", async () => {
    const out = join(dir, "serve");
    const child = spawn(process.execPath, ["--import", "tsx", START], { cwd: REPO, env: { ...process.env, SITE_OUT: out, SITE_PORT: "0", PROMETHEUS_URL: "" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding("utf8").on("data", (d) => {
        stdout += d;
        const m = /site is at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
        if (m) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`exited ${code} before serving:\n${stdout}\n${stderr}`)));
    });
    try {
      assert.match(stdout, /pages generated into/);
      assert.match(stdout, /Serving until Ctrl-C/);
      const home = await fetch(url);
      assert.equal(home.status, 200);
      assert.match(await home.text(), /<h1 id="the-homelab-at-a-glance">/);
      const status = await fetch(new URL("/status", url));
      assert.equal(status.status, 200);
      assert.match(await status.text(), /Live status is off/);
      assert.ok(existsSync(join(out, "index.html")));
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await exited, 0, stderr);
  });

  it("only generates with HOMELAB_SITE=generate, and does nothing with off", () => {
    const out = join(dir, "generate");
    const gen = spawnSync(process.execPath, ["--import", "tsx", START], { cwd: REPO, env: { ...process.env, SITE_OUT: out, HOMELAB_SITE: "generate" }, encoding: "utf8", timeout: 120_000 });
    assert.equal(gen.status, 0, gen.stderr);
    assert.ok(readFileSync(join(out, "inventory.html"), "utf8").includes("Component inventory"));
    const off = spawnSync(process.execPath, ["--import", "tsx", START], { cwd: REPO, env: { ...process.env, SITE_OUT: join(dir, "off"), HOMELAB_SITE: "off" }, encoding: "utf8", timeout: 60_000 });
    assert.equal(off.status, 0, off.stderr);
    assert.ok(!existsSync(join(dir, "off")));
    const bad = spawnSync(process.execPath, ["--import", "tsx", START], { cwd: REPO, env: { ...process.env, HOMELAB_SITE: "maybe" }, encoding: "utf8", timeout: 60_000 });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /HOMELAB_SITE must be off, generate or serve, not "maybe"/);
  });
});
