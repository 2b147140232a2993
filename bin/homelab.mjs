#!/usr/bin/env node
// Entry point: the bundled CLI in dist/ when it matches the sources on disk, else the sources through the
// TypeScript loader. A bundle older than a source edit never runs (bin/freshness.mjs); see README "The CLI".
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { bundleIsCurrent } from "./freshness.mjs";

// V8 lets the heap grow to several times what survived the last full collection before collecting again;
// `check` on a large input makes garbage faster than anything else (each document's syntax tree) and
// peaked at 210-320 MiB on 26 MB of manifests. Growing by at most 20% between collections kept it at
// about 200 MiB in the same time. Read by the collector each time it sizes the heap, so it applies here.
setFlagsFromString("--heap-growing-percent=20");

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
let main;
if (process.env.HOMELAB_FROM_SOURCE !== "1" && bundleIsCurrent(dist)) {
  ({ main } = await import("../dist/homelab.js"));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../src/cli/main.ts"));
}
process.exitCode = await main(process.argv.slice(2));
