#!/usr/bin/env node
/**
 * Bundles the CLI (src/cli/main.ts and everything it imports from src/) into dist/ with esbuild, so that
 * `homelab` starts without the TypeScript loader. Each command is its own chunk, loaded when it runs.
 * Dependencies stay in node_modules (they are JavaScript already).
 *
 * Next to the bundle, dist/inputs.json lists every source file the bundle was made from with its size,
 * mtime and sha256: bin/homelab.mjs compares them with the files on disk at each start and runs the sources
 * (through tsx) instead of a bundle that no longer matches them. Run by `npm ci` (prepare), `npm start`,
 * `npm test` and scripts/run-tests.mjs; `--if-stale` skips the work when the bundle is current.
 */
import { createHash } from "node:crypto";
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleIsCurrent } from "../bin/freshness.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(ROOT, "dist");

if (process.argv.includes("--if-stale") && bundleIsCurrent(DIST)) process.exit(0);

const { build } = await import("esbuild");
// Build into a fresh folder and swap it in, so a process starting meanwhile never sees half a bundle.
const staging = join(ROOT, `.dist-${process.pid}`);
rmSync(staging, { recursive: true, force: true });
const result = await build({
  entryPoints: { homelab: join(ROOT, "src/cli/main.ts") },
  outdir: staging,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  sourcemap: "linked",
  metafile: true,
  logLevel: "warning",
  chunkNames: "chunks/[name]-[hash]",
  // A chunk that uses require() (createRequire) needs no banner: esbuild keeps createRequire as written.
});
const inputs = {};
for (const file of Object.keys(result.metafile.inputs)) {
  const abs = resolve(ROOT, file);
  // Only our own sources can change under a bundle; node_modules changes with package-lock.json.
  if (relative(ROOT, abs).startsWith("node_modules")) continue;
  const st = statSync(abs);
  inputs[relative(ROOT, abs)] = { size: st.size, mtimeMs: st.mtimeMs, sha256: createHash("sha256").update(readFileSync(abs)).digest("hex") };
}
for (const extra of ["package.json", "package-lock.json"]) {
  const abs = join(ROOT, extra);
  const st = statSync(abs);
  inputs[extra] = { size: st.size, mtimeMs: st.mtimeMs, sha256: createHash("sha256").update(readFileSync(abs)).digest("hex") };
}
writeFileSync(join(staging, "inputs.json"), JSON.stringify({ node: process.version, inputs }, null, 1) + "\n");
const old = join(ROOT, `.dist-old-${process.pid}`);
try {
  renameSync(DIST, old);
} catch {
  // no previous bundle
}
try {
  renameSync(staging, DIST);
} catch {
  // Another build swapped its bundle in first; it was made from the same sources.
  rmSync(staging, { recursive: true, force: true });
}
rmSync(old, { recursive: true, force: true });
