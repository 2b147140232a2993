#!/usr/bin/env node
// Entry point: the bundled CLI in dist/ when it matches the sources on disk, else the sources through the
// TypeScript loader. A bundle older than a source edit never runs (bin/freshness.mjs); see README "The CLI".
import { fileURLToPath } from "node:url";
import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { bundleIsCurrent } from "./freshness.mjs";

// V8 lets the heap grow to several times what survived the last full collection before collecting again;
// `check` on a large input makes garbage faster than anything else (each document's syntax tree) and
// peaked at 210-320 MiB on 26 MB of manifests. Growing by at most 20% between collections kept it at
// about 200 MiB in the same time. Read by the collector each time it sizes the heap, so it applies here.
setFlagsFromString("--heap-growing-percent=20");
// `check` allocates a syntax tree per document and keeps little of it, yet V8 doubles its young generation
// up to 32 MiB on any real input: ~25 MiB over start-up that a 1.3 MB input never repays. Once it has grown to
// 8 MiB it grows no more (the flag is read at each growth; Node takes the size limit only at start). Measured
// on kube-prometheus's manifests: 1x 124 → 101 MiB, 20x 208 → 163 MiB, for 5-10% more time in scavenges.
// `build` keeps the default: its many live objects want the room (a small young generation cost it 30%).
if (process.argv.slice(2).find((a) => !a.startsWith("-")) === "check") {
  const young = new PerformanceObserver(() => {
    if ((getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0) < 8 * 1024 * 1024) return;
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
