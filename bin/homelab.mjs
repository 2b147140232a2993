#!/usr/bin/env node
// Entry point: the bundled CLI in dist/ when it matches the sources on disk, else the sources through the
// TypeScript loader. A bundle older than a source edit never runs (bin/freshness.mjs); see README "The CLI".
import { fileURLToPath } from "node:url";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { bundleIsCurrent } from "./freshness.mjs";

// V8 lets the heap grow to several times what survived the last full collection before collecting again;
// `check` on a large input makes garbage faster than anything else (each document's syntax tree) and
// peaked at 210-320 MiB on 26 MB of manifests. Growing by at most 20% between collections kept it at
// about 200 MiB in the same time. Read by the collector each time it sizes the heap, so it applies here.
setFlagsFromString("--heap-growing-percent=20");
// `check` keeps little of what it allocates, yet V8 doubles its young generation up to 32 MiB on any real
// input: ~25 MiB over start-up that a 1.3 MB input never repays. Once it has grown to 2 MiB it grows no more
// (the flag is read at each growth; Node takes the size limit only at start). Measured on kube-prometheus's
// manifests: 1x 124 → 101 MiB and 20x 208 → 163 MiB at 8 MiB; since the loader reads plain manifests without
// yaml's syntax trees (a fifth of the garbage), a small young generation costs no measurable time: 2 MiB peaks
// 3–5 MiB lower than 4 MiB from 1x to 20x in the same time.
// `build` keeps the default: its many live objects want the room (a small young generation cost it 30%).
const CHECK_YOUNG_GENERATION = 2 * 1024 * 1024;
if (process.argv.slice(2).find((a) => !a.startsWith("-")) === "check") {
  // V8's bytecode interpreter only, until the input is large (src/cli/commands/check.ts turns the compilers
  // back on past 8 MiB or 1000 objects). On a few hundred objects its compilers cost more than they save:
  // TurboFan's compile zones and machine code took 11 MiB of a 1.3 MB check of 126 objects (75 MiB against
  // 64 without them, in the same time); on more they repay (13 MB: 1.1 s against 1.5 s; 4000 small objects:
  // 2.0 s against 3.6 s). Set before the bundle loads, so its start-up runs interpreted too: a check of one
  // ConfigMap peaks at 59 MiB instead of 65.
  setFlagsFromString("--max-opt=0");
  // Imported here: perf_hooks (about ten internal modules) is only needed for this.
  const { PerformanceObserver } = await import("node:perf_hooks");
  const young = new PerformanceObserver(() => {
    if ((getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0) < CHECK_YOUNG_GENERATION) return;
    setFlagsFromString("--semi-space-growth-factor=1");
    young.disconnect();
  });
  young.observe({ entryTypes: ["gc"] });
}

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
