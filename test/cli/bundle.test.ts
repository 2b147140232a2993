/**
 * The bundled CLI: built by scripts/build-cli.mjs, a command's code loaded only when it runs, and never
 * run once a source differs from what it was built from.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO } from "../helpers.ts";

function run(dir: string, args: string[], env: Record<string, string> = {}) {
  const res = spawnSync(process.execPath, args, { cwd: dir, encoding: "utf8", env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

describe("the bundled CLI", () => {
  let dir = "";
  before(() => {
    // A checkout of its own: the test edits sources and rebuilds.
    dir = mkdtempSync(join(tmpdir(), "homelab-bundle-"));
    for (const f of ["bin", "src", "scripts", "schemas"]) cpSync(join(REPO, f), join(dir, f), { recursive: true });
    for (const f of ["package.json", "package-lock.json"]) cpSync(join(REPO, f), join(dir, f));
    symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
    const built = run(dir, ["scripts/build-cli.mjs"]);
    assert.equal(built.code, 0, built.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const fresh = async () => ((await import(join(dir, "bin", "freshness.mjs"))) as { bundleIsCurrent(d: string): boolean }).bundleIsCurrent(join(dir, "dist"));

  it("loads each command's code only when it runs: the entry chunk imports no command statically", () => {
    const entry = readFileSync(join(dir, "dist", "homelab.js"), "utf8");
    const staticImports = [...entry.matchAll(/^import\s[^;]*?from\s*"([^"]+)"/gm)].map((m) => m[1]!);
    const commandChunks = readdirSync(join(dir, "dist", "chunks")).filter((f) => /^(build|check|values|secrets|charts)-.*\.js$/.test(f));
    assert.deepEqual(commandChunks.map((f) => f.split("-")[0]).sort(), ["build", "charts", "check", "secrets", "values"]);
    for (const c of commandChunks) {
      assert.ok(!staticImports.some((s) => s.endsWith(c)), `${c} is imported statically`);
      assert.ok(entry.includes(`import("./chunks/${c}")`), `${c} is not imported on demand`);
    }
    assert.ok(!staticImports.some((s) => s.startsWith("tsx")), "the entry must not load the TypeScript loader");
  });

  it("runs from the bundle when current, and from the sources as soon as one differs", async () => {
    assert.equal(await fresh(), true);
    const main = join(dir, "src", "cli", "main.ts");
    const original = readFileSync(main, "utf8");
    // Touched but unchanged (a checkout): still current.
    utimesSync(main, new Date(), new Date(Date.now() + 5000));
    assert.equal(await fresh(), true);
    writeFileSync(main, original.replace("Usage: homelab <command> [options]", "Usage: homelab <command> [options] (edited)"));
    assert.equal(await fresh(), false);
    const res = run(dir, ["bin/homelab.mjs", "--help"]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^Usage: homelab <command> \[options\] \(edited\)$/m, "a stale bundle ran");
    // --if-stale rebuilds; then the bundle serves the edit.
    assert.equal(run(dir, ["scripts/build-cli.mjs", "--if-stale"]).code, 0);
    assert.equal(await fresh(), true);
    assert.match(run(dir, ["bin/homelab.mjs", "--help"]).stdout, /\(edited\)$/m);
    // A deleted source is a change too.
    rmSync(join(dir, "src", "suggest.ts"));
    assert.equal(await fresh(), false);
  });

  it("loads a TypeScript homelab.config.ts from the bundle", () => {
    const work = mkdtempSync(join(tmpdir(), "homelab-bundle-config-"));
    try {
      cpSync(join(REPO, "homelab.config.ts"), join(work, "homelab.config.ts"));
      cpSync(join(REPO, "versions.yaml"), join(work, "versions.yaml"));
      symlinkSync(join(REPO, "src"), join(work, "src"));
      symlinkSync(join(REPO, "node_modules"), join(work, "node_modules"));
      const res = run(work, [join(REPO, "bin", "homelab.mjs"), "values", "argocd", "--version"]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, "10.1.1\n");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
