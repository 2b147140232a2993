/**
 * `npm run bench`: median wall time and peak memory of the CLI's commands, side by side in one run with
 * `node -e 0` on the same machine (the ratios are what to compare across machines):
 *   - start-up: `homelab --help`, `secrets decrypt` of a small file, a no-op `build --check` (nothing changed
 *     since the last successful check);
 *   - a full `homelab build` (render + every check + write) of the default config and of one with 100 apps.
 *   - scaling: `build` with 1000 apps next to 100 (linear, under 10 s), and `check` on real third-party
 *     manifests (bench/corpus, kube-prometheus) concatenated 1, 2, 5, 10 and 20 times next to the
 *     `yaml` library's own single-pass parse of the same text in this process (time linear, throughput
 *     after start-up at least half the parse's, peak RSS under 4x the input plus start-up).
 *     The 1000-app build is measured cold too (no caches under node_modules/.cache/homelab, as in a fresh clone),
 *     and once into an empty folder (every file written).
 *   - the site's server against nginx on the same pre-rendered files (scripts/bench-site.ts).
 * `BENCH_ONLY=start-up,build-scale,check,site` (any of them, comma-separated) runs only those parts.
 * Every command runs in its own process, as an operator runs it, from the bundled CLI (rebuilt first when
 * stale), in a scratch copy of the repository. The rounds interleave the cases so machine noise hits all alike.
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { parseAllDocuments } from "yaml";
import { benchSite } from "./bench-site.ts";

const REPO = resolve(import.meta.dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
/** Runs of the large cases (1000 apps; check on 1x to 20x the corpus). */
const SCALE_RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 1);
/** `BENCH_ONLY=check,build-scale` runs only those parts: start-up (the table of commands), build-scale, check, site. */
const PARTS = ["start-up", "build-scale", "check", "site"] as const;
const ONLY = (process.env.BENCH_ONLY ?? "").split(",").map((s) => s.trim()).filter(Boolean);
for (const p of ONLY) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`BENCH_ONLY: unknown part "${p}" (parts: ${PARTS.join(", ")})`);
const part = (p: (typeof PARTS)[number]) => ONLY.length === 0 || ONLY.includes(p);

function scratch(extraApps: number): string {
  const dir = mkdtempSync(join(tmpdir(), "homelab-bench-"));
  for (const f of ["versions.yaml", "package.json", "homelab.config.ts"]) cpSync(join(REPO, f), join(dir, f));
  if (existsSync(join(REPO, "secrets"))) cpSync(join(REPO, "secrets"), join(dir, "secrets"), { recursive: true });
  symlinkSync(join(REPO, "src"), join(dir, "src"));
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
  symlinkSync(join(REPO, "charts"), join(dir, "charts"));
  // The host layer's Compose files are validated against the committed Compose schema.
  if (existsSync(join(REPO, "schemas"))) symlinkSync(join(REPO, "schemas"), join(dir, "schemas"));
  // The build checks that every alert's runbook page exists under docs/.
  if (existsSync(join(REPO, "docs"))) symlinkSync(join(REPO, "docs"), join(dir, "docs"));
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

function run(cwd: string, args: string[], env: Record<string, string> = {}, ok: readonly number[] = [0]): Sample {
  const t0 = performance.now();
  const res = spawnSync(process.execPath, ["--import", join(REPO, "scripts/bench-rss.mjs"), ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, ...env },
    maxBuffer: 1 << 30,
  });
  const ms = performance.now() - t0;
  if (!ok.includes(res.status ?? -1)) throw new Error(`${args.join(" ")} failed (${res.status}) in ${cwd}:\n${res.stdout.slice(0, 4000)}\n${res.stderr.slice(0, 4000)}`);
  const m = /maxrss_kib=(\d+)/.exec(res.stderr);
  return { ms, rssMiB: m ? Number(m[1]) / 1024 : Number.NaN };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const built = spawnSync(process.execPath, [join(REPO, "scripts/build-cli.mjs"), "--if-stale"], { stdio: "inherit" });
if (built.status !== 0) process.exit(built.status ?? 1);

const BIN = join(REPO, "bin/homelab.mjs");
if (part("start-up")) {
  const small = scratch(0);
  const big = scratch(100);
  const checked = scratch(0);
  // The no-op check: a successful build first, then checks with nothing changed.
  run(checked, [BIN, "build", "--quiet"]);
  const secret = join(REPO, "secrets/cloudflared/cloudflared-credentials.sops.yaml");
  const testKey = { SOPS_AGE_KEY_FILE: join(REPO, "test/fixtures/sops/sops-age/key.txt") };

  interface Case {
    name: string;
    cwd: string;
    args: string[];
    env?: Record<string, string>;
    /** Target: ratio to `node -e 0`, or milliseconds. */
    ratio?: number;
    ms?: number;
  }
  const cases: Case[] = [
    { name: "node -e 0", cwd: REPO, args: ["-e", "0"] },
    { name: "homelab --help", cwd: REPO, args: [BIN, "--help"], ratio: 2.5 },
    { name: "secrets decrypt (small file)", cwd: REPO, args: [BIN, "secrets", "decrypt", secret], env: testKey, ratio: 4 },
    { name: "build --check (no-op)", cwd: checked, args: [BIN, "build", "--check", "--quiet"], ms: 600 },
    { name: "build, default config", cwd: small, args: [BIN, "build", "--quiet"], ms: 1500 },
    { name: "build, default + 100 apps", cwd: big, args: [BIN, "build", "--quiet"], ms: 4000 },
  ];
  const samples = new Map<string, Sample[]>(cases.map((c) => [c.name, []]));
  for (let i = 0; i < RUNS + 1; i++) {
    for (const c of cases) {
      const s = run(c.cwd, c.args, c.env);
      if (i > 0) samples.get(c.name)!.push(s); // the first round warms the file cache
    }
  }
  console.log(`homelab, ${RUNS} runs each (median wall, peak RSS over the runs), ${process.version}, ${cpus().length} cores; figures vary with machine load, ratios less`);
  const base = median(samples.get("node -e 0")!.map((s) => s.ms));
  for (const c of cases) {
    const ss = samples.get(c.name)!;
    const ms = median(ss.map((s) => s.ms));
    const rss = Math.max(...ss.map((s) => s.rssMiB));
    const ratio = ms / base;
    const target =
      c.ratio !== undefined ? `target <= ${c.ratio}x: ${ratio <= c.ratio ? "met" : "MISSED"}` : c.ms !== undefined ? `target <= ${c.ms} ms: ${ms <= c.ms ? "met" : "MISSED"}` : "baseline";
    console.log(`  ${c.name.padEnd(30)} wall ${ms.toFixed(0).padStart(5)} ms  ${ratio.toFixed(2).padStart(6)}x node -e 0  peak RSS ${rss.toFixed(0).padStart(4)} MiB  (${target})`);
  }
  for (const d of [small, big, checked]) rmSync(d, { recursive: true, force: true });
}

// ---------------------------------------------------------------- scaling: build with 1000 apps

if (part("build-scale")) {
  const apps100 = scratch(100);
  const apps1000 = scratch(1000);
  const build = (dir: string) => run(dir, [BIN, "build", "--quiet"]);
  // Cold: what a fresh clone has, no caches under node_modules/.cache/homelab (promtool's passes, parsed chart
  // values, the last build's record), so every check really runs; the rendered tree is there, as committed.
  // The scratch copies share this node_modules.
  const cacheDir = join(REPO, "node_modules", ".cache", "homelab");
  const cold = () => {
    rmSync(cacheDir, { recursive: true, force: true });
    return build(apps1000);
  };
  build(apps100); // writes its tree
  rmSync(cacheDir, { recursive: true, force: true });
  const firstWrite = build(apps1000); // no caches and no tree: every file written
  const colds = Array.from({ length: SCALE_RUNS }, cold);
  const at100 = median(Array.from({ length: SCALE_RUNS }, () => build(apps100).ms));
  const s1000 = Array.from({ length: SCALE_RUNS }, () => build(apps1000));
  const at1000 = median(s1000.map((s) => s.ms));
  const atCold = median(colds.map((s) => s.ms));
  const ratio = at1000 / at100;
  const met = (ms: number) => (ms < 10000 ? "met" : "MISSED");
  const rss = Math.max(...[...s1000, ...colds, firstWrite].map((s) => s.rssMiB));
  console.log(`\nbuild scaling, ${SCALE_RUNS} run(s) each: 100 apps ${at100.toFixed(0)} ms, 1000 apps ${at1000.toFixed(0)} ms (target < 10000 ms: ${met(at1000)}), peak RSS ${rss.toFixed(0)} MiB, 1000/100 ${ratio.toFixed(1)}x (linear: at most 10x: ${ratio <= 10 ? "met" : "MISSED"})`);
  console.log(`  1000 apps cold (a fresh clone: no caches, tree as committed) ${atCold.toFixed(0)} ms (${met(atCold)}); first build into an empty folder (no caches, every file written) ${firstWrite.ms.toFixed(0)} ms`);
  for (const d of [apps100, apps1000]) rmSync(d, { recursive: true, force: true });
}

// ---------------------------------------------------------------- scaling: check on real manifests

if (part("check")) {
  const corpus = gunzipSync(readFileSync(join(REPO, "bench/corpus/kube-prometheus-manifests.yaml.gz"))).toString("utf8");
  const checkDir = mkdtempSync(join(tmpdir(), "homelab-bench-check-"));
  writeFileSync(join(checkDir, "tiny.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tiny, namespace: x}\ndata: {a: b}\n");
  /** The corpus has policy findings, so `check` exits 1: a completed run all the same. */
  const CHECK_OK = [0, 1, 3];
  const tiny = Array.from({ length: 3 }, () => run(checkDir, [BIN, "check", "tiny.yaml"], {}, CHECK_OK));
  const startup = median(tiny.map((s) => s.ms));
  const startupRss = Math.max(...tiny.map((s) => s.rssMiB));
  console.log(`\ncheck scaling on kube-prometheus manifests (bench/corpus), ${SCALE_RUNS} run(s) each; start-up ${startup.toFixed(0)} ms, ${startupRss.toFixed(0)} MiB`);
  console.log("  input     MB   check ms   check MB/s*   yaml parse MB/s   check/parse   time vs 1x   peak RSS MiB (limit)");
  let first: number | undefined;
  for (const k of [1, 2, 5, 10, 20]) {
    const text = Array(k).fill(corpus).join("---\n");
    const mb = Buffer.byteLength(text) / 1e6;
    writeFileSync(join(checkDir, `x${k}.yaml`), text);
    const ss = Array.from({ length: SCALE_RUNS }, () => run(checkDir, [BIN, "check", `x${k}.yaml`], {}, CHECK_OK));
    const ms = median(ss.map((s) => s.ms));
    const rss = Math.max(...ss.map((s) => s.rssMiB));
    const t0 = performance.now();
    parseAllDocuments(text);
    const parseMs = performance.now() - t0;
    const checkRate = mb / ((ms - startup) / 1000);
    const parseRate = mb / (parseMs / 1000);
    first ??= ms;
    const limit = (4 * mb) / 1.048576 + startupRss;
    console.log(
      `  ${`${k}x`.padEnd(6)} ${mb.toFixed(1).padStart(5)} ${ms.toFixed(0).padStart(10)} ${checkRate.toFixed(1).padStart(13)} ${parseRate.toFixed(1).padStart(17)} ${(checkRate / parseRate).toFixed(2).padStart(13)} ${(ms / first).toFixed(1).padStart(12)}x ${rss.toFixed(0).padStart(9)} (${limit.toFixed(0)}) ${rss <= limit ? "met" : "MISSED"}`,
    );
  }
  console.log("  * after start-up. Targets: time at 20x at most 22x the 1x time; check/parse at least 0.50; RSS under the limit.");
  rmSync(checkDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------- the site's server vs nginx (scripts/bench-site.ts)

if (part("site")) {
  await benchSite();
}
