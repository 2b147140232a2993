#!/usr/bin/env node
// Entry point: the bundled CLI in dist/ when it matches the sources on disk, else the sources through the
// TypeScript loader. A bundle older than a source edit never runs (bin/freshness.mjs); see README "The CLI".
import { fileURLToPath } from "node:url";
import { bundleIsCurrent } from "./freshness.mjs";

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
