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
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleIsCurrent } from "../bin/freshness.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(ROOT, "dist");

if (process.argv.includes("--if-stale") && bundleIsCurrent(DIST)) process.exit(0);

const { build } = await import("esbuild");

/**
 * The published Kubernetes models (kubernetes-models and the CRD model packages the schema layer reads:
 * src/validate/kube-schema.ts) bundled into dist/models/, one module per kind with the code kinds share
 * split into common chunks. Node loaded a kind's validators as one ES module per schema: 300 modules for
 * the kinds of kube-prometheus, 0.2 s of resolving, reading and linking before the first object was
 * checked. The same code, a few files per kind. re2-wasm is replaced by src/validate/re2-compat.ts.
 * Minified, as the packages ship it: V8 keeps a module's source in memory as long as the process runs,
 * and esbuild's readable layout made the kinds of kube-prometheus 1.2 MB of it instead of 0.8 MB.
 * Rebuilt only when the lockfile or that module changes (dist/models/stamp.json); otherwise the
 * previous bundle's models are moved into the new one.
 */
const MODEL_PACKAGES = ["kubernetes-models", "@kubernetes-models/argo-cd", "@kubernetes-models/cert-manager", "@kubernetes-models/prometheus-operator"];
/** Bundled with them: the models' own code, and apimachinery's, which they all import. */
const BUNDLED_MODEL_PACKAGES = [...MODEL_PACKAGES, "@kubernetes-models/apimachinery"];
const isBundledModelCode = (spec) => BUNDLED_MODEL_PACKAGES.some((pkg) => spec === pkg || spec.startsWith(`${pkg}/`));
const RE2_COMPAT = "src/validate/re2-compat.ts";

async function buildModels(into) {
  const out = join(into, "models");
  const stamp = createHash("sha256")
    .update(readFileSync(join(ROOT, "package-lock.json")))
    .update(readFileSync(join(ROOT, RE2_COMPAT)))
    .update(readFileSync(fileURLToPath(import.meta.url)))
    .digest("hex");
  const previous = join(DIST, "models");
  try {
    if (JSON.parse(readFileSync(join(previous, "stamp.json"), "utf8")).stamp === stamp) {
      renameSync(previous, out);
      return { inputs: [RE2_COMPAT] };
    }
  } catch {
    // no previous models, or another build took them: build them
  }
  const entryPoints = {};
  for (const pkg of MODEL_PACKAGES) {
    const root = join(ROOT, "node_modules", pkg);
    const found = Object.keys(entryPoints).length;
    const visit = (dir) => {
      for (const name of readdirSync(dir).sort()) {
        const f = join(dir, name);
        if (name === "_schemas" || name === "node_modules") continue;
        if (statSync(f).isDirectory()) visit(f);
        // A top-level model (one with apiVersion and kind); files of nested types are reached through them.
        else if (name.endsWith(".js") && name !== "index.js" && /static\{this\.kind=/.test(readFileSync(f, "utf8"))) entryPoints[`${pkg}/${relative(root, f).slice(0, -3).split("\\").join("/")}`] = f;
      }
    };
    visit(root);
    if (Object.keys(entryPoints).length === found) throw new Error(`build-cli: no model found in ${pkg} (has its layout changed?)`);
  }
  const res = await build({
    entryPoints,
    outdir: out,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    metafile: true,
    logLevel: "warning",
    chunkNames: "chunks/[hash]",
    minify: true,
    plugins: [
      {
        name: "models-only",
        setup(b) {
          b.onResolve({ filter: /^@kubernetes-models\/validate\/runtime\/re2$/ }, () => ({ path: join(ROOT, RE2_COMPAT) }));
          // Everything but the models' own code stays a package import (one copy of the runtime they share).
          b.onResolve({ filter: /^[^./]/ }, (a) => (isBundledModelCode(a.path) ? undefined : { external: true }));
        },
      },
    ],
  });
  writeFileSync(join(out, "kinds.json"), JSON.stringify(Object.keys(entryPoints).sort()) + "\n");
  writeFileSync(join(out, "stamp.json"), JSON.stringify({ stamp }) + "\n");
  return { inputs: Object.keys(res.metafile.inputs).filter((f) => !f.includes("node_modules")) };
}
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
const models = await buildModels(staging);
const inputs = {};
for (const file of [...Object.keys(result.metafile.inputs), ...models.inputs]) {
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
