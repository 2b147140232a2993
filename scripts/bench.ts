/**
 * `npm run bench`, side by side in one run:
 * - `homelab build` (render + every check + write): median wall time and peak memory for the default
 *   config and synthetic ones with 100 and 1000 extra apps (linear from 100 to 1000, 1000 under 10 s);
 * - `homelab check` on real third-party manifests (bench/corpus, kube-prometheus) concatenated 1, 2, 5,
 *   10 and 20 times, next to the `yaml` library's own single-pass parse of the same text in this
 *   process: time must grow linearly, throughput after start-up stay at least half of the parse's,
 *   and peak RSS stay under 4x the input plus start-up.
 * Each command runs in its own process, as an operator runs it, in a scratch copy of the repository.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { parseAllDocuments } from "yaml";

const REPO = resolve(import.meta.dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
/** Runs of the large cases (1000 apps; check on 1x to 20x the corpus). */
const SCALE_RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 1);

function scratch(extraApps: number): string {
  const dir = mkdtempSync(join(tmpdir(), "homelab-bench-"));
  for (const f of ["versions.yaml", "package.json", "homelab.config.ts"]) cpSync(join(REPO, f), join(dir, f));
  if (existsSync(join(REPO, "secrets"))) cpSync(join(REPO, "secrets"), join(dir, "secrets"), { recursive: true });
  symlinkSync(join(REPO, "src"), join(dir, "src"));
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
  symlinkSync(join(REPO, "charts"), join(dir, "charts"));
  if (extraApps > 0) {
    const apps = Array.from({ length: extraApps }, (_, i) => ({
      name: `bench-app-${i}`,
      image: `git.skypalette.ai/bench/app-${i}`,
      tag: "1.0.0",
      port: 8080,
      host: `bench-app-${i}.skypalette.ai`,
    }));
    writeFileSync(
      join(dir, "homelab.config.ts"),
      `import base from "./base.config.ts";\nexport default { ...base, apps: [...(base.apps ?? []), ...${JSON.stringify(apps)}] };\n`,
    );
    cpSync(join(REPO, "homelab.config.ts"), join(dir, "base.config.ts"));
  }
  return dir;
}

interface Sample {
  ms: number;
  rssMiB: number;
}

function run(dir: string, args: readonly string[] = ["build", "--quiet", "--offline"], ok: readonly number[] = [0]): Sample {
  const t0 = performance.now();
  const res = spawnSync(process.execPath, ["--import", join(REPO, "scripts/bench-rss.mjs"), join(REPO, "bin/homelab.mjs"), ...args], {
    cwd: dir,
    encoding: "utf8",
    env: process.env,
    maxBuffer: 1 << 30,
  });
  const ms = performance.now() - t0;
  if (!ok.includes(res.status ?? -1)) throw new Error(`homelab ${args.join(" ")} failed (${res.status}) in ${dir}:\n${res.stdout.slice(0, 2000)}\n${res.stderr.slice(0, 2000)}`);
  const m = /maxrss_kib=(\d+)/.exec(res.stderr);
  return { ms, rssMiB: m ? Number(m[1]) / 1024 : Number.NaN };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const cases = [
  { name: "default config", dir: scratch(0), target: 1500, runs: RUNS },
  { name: "default + 100 apps", dir: scratch(100), target: 4000, runs: RUNS },
  { name: "default + 1000 apps", dir: scratch(1000), target: 10000, runs: SCALE_RUNS },
];
const samples = new Map<string, Sample[]>(cases.map((c) => [c.name, []]));
// Interleave the cases so that machine noise hits both alike.
for (let i = 0; i < RUNS + 1; i++) {
  for (const c of cases) {
    if (i > c.runs) continue;
    const s = run(c.dir);
    if (i > 0) samples.get(c.name)!.push(s); // the first round warms the transform cache
  }
}
console.log(`homelab build, ${RUNS} runs each (median; ${SCALE_RUNS} for 1000 apps), ${process.version}, ${(await import("node:os")).cpus().length} cores`);
const base = median(samples.get(cases[0]!.name)!.map((s) => s.ms));
const buildMs = new Map<string, number>();
for (const c of cases) {
  const ss = samples.get(c.name)!;
  const ms = median(ss.map((s) => s.ms));
  buildMs.set(c.name, ms);
  const rss = Math.max(...ss.map((s) => s.rssMiB));
  console.log(
    `  ${c.name.padEnd(20)} wall ${ms.toFixed(0).padStart(6)} ms  (target < ${c.target} ms: ${ms < c.target ? "met" : "MISSED"})  peak RSS ${rss.toFixed(0)} MiB  ratio ${(ms / base).toFixed(2)}x`,
  );
}
// Linear from 100 to 1000 apps: the apps' share of the time (above the default config) grows at most ~10x.
const apps100 = buildMs.get("default + 100 apps")! - base;
const apps1000 = buildMs.get("default + 1000 apps")! - base;
console.log(`  apps' share of the build: 100 apps ${apps100.toFixed(0)} ms, 1000 apps ${apps1000.toFixed(0)} ms, ratio ${(apps1000 / apps100).toFixed(1)}x (linear: about 10x; target <= 12x: ${apps1000 / apps100 <= 12 ? "met" : "MISSED"})`);
for (const c of cases) rmSync(c.dir, { recursive: true, force: true });

// ---------------------------------------------------------------- check on real manifests

const corpus = gunzipSync(readFileSync(join(REPO, "bench/corpus/kube-prometheus-manifests.yaml.gz"))).toString("utf8");
const checkDir = mkdtempSync(join(tmpdir(), "homelab-bench-check-"));
writeFileSync(join(checkDir, "tiny.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tiny, namespace: x}\ndata: {a: b}\n");
/** `check` exits 1 on this corpus (it has policy findings); that is a completed run. */
const CHECK_OK = [0, 1, 3];
const startup = median(Array.from({ length: 3 }, () => run(checkDir, ["check", "tiny.yaml"], CHECK_OK)).map((s) => s.ms));
const startupRss = run(checkDir, ["check", "tiny.yaml"], CHECK_OK).rssMiB;
console.log(`\nhomelab check on kube-prometheus manifests (bench/corpus), ${SCALE_RUNS} run(s) each; start-up ${startup.toFixed(0)} ms, ${startupRss.toFixed(0)} MiB`);
console.log("  input     MB   check ms   check MB/s*   yaml parse MB/s   check/parse   time vs 1x   peak RSS MiB (limit)");
let first: number | undefined;
for (const k of [1, 2, 5, 10, 20]) {
  const text = Array(k).fill(corpus).join("---\n");
  const mb = Buffer.byteLength(text) / 1e6;
  writeFileSync(join(checkDir, `x${k}.yaml`), text);
  const ss = Array.from({ length: SCALE_RUNS }, () => run(checkDir, ["check", `x${k}.yaml`], CHECK_OK));
  const ms = median(ss.map((s) => s.ms));
  const rss = Math.max(...ss.map((s) => s.rssMiB));
  const t0 = performance.now();
  parseAllDocuments(text);
  const parseMs = performance.now() - t0;
  const checkRate = mb / ((ms - startup) / 1000);
  const parseRate = mb / (parseMs / 1000);
  first ??= ms;
  const limit = 4 * mb * 1.048576 + startupRss;
  console.log(
    `  ${`${k}x`.padEnd(6)} ${mb.toFixed(1).padStart(5)} ${ms.toFixed(0).padStart(10)} ${checkRate.toFixed(1).padStart(13)} ${parseRate.toFixed(1).padStart(17)} ${(checkRate / parseRate).toFixed(2).padStart(13)} ${(ms / first).toFixed(1).padStart(12)}x ${rss.toFixed(0).padStart(9)} (${limit.toFixed(0)}) ${rss <= limit ? "met" : "MISSED"}`,
  );
}
console.log("  * after start-up. Targets: time at 20x at most 22x the 1x time; check/parse at least 0.50.");
rmSync(checkDir, { recursive: true, force: true });
