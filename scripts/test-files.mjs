// Which files `npm test` runs: every *.test.ts under test/ and under each workspace (packages/*, apps/*),
// never inside node_modules (a workspace may have its own) nor in fixture folders.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** Folders searched for tests, relative to the repository root. */
export const TEST_ROOTS = ["test", "packages", "apps"];

function find(root, dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    // dist/ holds build output (the site's pre-rendered pages), never sources.
    if (name === "fixtures" || name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
    if (statSync(p).isDirectory()) out.push(...find(root, p));
    else if (name.endsWith(".test.ts")) out.push(relative(root, p));
  }
  return out;
}

/** The test files under `root`, as paths relative to it, in a stable order. */
export function testFiles(root = ".") {
  return TEST_ROOTS.flatMap((top) => (existsSync(join(root, top)) ? find(root, join(root, top)) : []));
}
