// Node 20's test runner neither expands globs nor finds .ts files, so list them here.
import { spawnSync } from "node:child_process";
import { testFiles } from "./test-files.mjs";

const filter = process.argv.slice(2);
let files = testFiles();
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error("run-tests: no test files matched");
  process.exit(1);
}
// Tests that run bin/homelab.mjs get the bundle made from the sources under test (it would fall back to the
// sources otherwise: correct, only slower).
const bundled = spawnSync(process.execPath, ["scripts/build-cli.mjs", "--if-stale"], { stdio: "inherit" });
if (bundled.status !== 0) process.exit(bundled.status ?? 1);
const res = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", "--test-concurrency=2", ...files],
  { stdio: "inherit" },
);
process.exit(res.status ?? 1);
