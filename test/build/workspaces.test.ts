/**
 * The repository is one npm workspace root: packages/* (the telemetry kit) and apps/* (the site) install with
 * `npm ci` from the one lockfile, are type-checked by `npm run typecheck` and tested by `npm test`.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { testFiles } from "../../scripts/test-files.mjs";
import { REPO } from "../helpers.ts";

const json = (p: string) => JSON.parse(readFileSync(join(REPO, p), "utf8"));

function workspaceDirs(): string[] {
  return ["packages", "apps"].flatMap((top) =>
    existsSync(join(REPO, top)) ? readdirSync(join(REPO, top)).map((d) => `${top}/${d}`).filter((d) => existsSync(join(REPO, d, "package.json"))) : [],
  );
}

test("the root declares packages/* and apps/* as workspaces, and both the kit and the site exist", () => {
  assert.deepEqual(json("package.json").workspaces, ["packages/*", "apps/*"]);
  const dirs = workspaceDirs();
  assert.ok(dirs.includes("packages/telemetry"), dirs.join(", "));
  assert.ok(dirs.includes("apps/site"), dirs.join(", "));
});

test("every dependency of the root and of each workspace is pinned to an exact version and locked", () => {
  const lock = json("package-lock.json");
  const bad: string[] = [];
  for (const dir of [".", ...workspaceDirs()]) {
    const pkg = json(join(dir, "package.json"));
    const locked = lock.packages[dir === "." ? "" : dir];
    if (!locked) bad.push(`${dir}: not in package-lock.json (run npm install)`);
    for (const field of ["dependencies", "devDependencies", "optionalDependencies"]) {
      for (const [name, range] of Object.entries<string>(pkg[field] ?? {})) {
        if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(range)) bad.push(`${dir}: ${field}.${name} is "${range}", not an exact version`);
        if (locked && locked[field]?.[name] !== range) bad.push(`${dir}: ${field}.${name} differs from package-lock.json`);
      }
    }
  }
  assert.deepEqual(bad, []);
});

test("the workspaces resolve to the sources in this checkout", () => {
  for (const dir of workspaceDirs()) {
    const { name } = json(join(dir, "package.json"));
    const link = join(REPO, "node_modules", name);
    assert.equal(readFileSync(join(link, "package.json"), "utf8"), readFileSync(join(REPO, dir, "package.json"), "utf8"), name);
  }
});

test("npm test finds the tests of every workspace, and none in node_modules, dist or fixtures", () => {
  const root = mkdtempSync(join(tmpdir(), "homelab-test-files-"));
  try {
    const files = [
      "test/a.test.ts",
      "test/fixtures/not.test.ts",
      "packages/kit/src/b.test.ts",
      "packages/kit/node_modules/dep/c.test.ts",
      "apps/site/test/d.test.ts",
      "apps/site/dist/public/e.test.ts",
      "apps/site/src/f.ts",
    ];
    for (const f of files) {
      mkdirSync(dirname(join(root, f)), { recursive: true });
      writeFileSync(join(root, f), "");
    }
    assert.deepEqual(testFiles(root), ["test/a.test.ts", "packages/kit/src/b.test.ts", "apps/site/test/d.test.ts"]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("the type-check covers the workspaces", () => {
  const { include, exclude } = json("tsconfig.json");
  assert.ok(include.includes("packages") && include.includes("apps"), JSON.stringify(include));
  assert.ok(exclude.includes("**/node_modules"), JSON.stringify(exclude));
});
