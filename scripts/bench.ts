/**
 * `npm run bench`: median wall time and peak memory of a full `homelab build` (render + every check + write),
 * for the default config and for a synthetic one with 100 extra apps, measured side by side in one run.
 * Each build runs in its own process, as an operator runs it, in a scratch copy of the repository.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

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

function run(dir: string): Sample {
  const t0 = performance.now();
  const res = spawnSync(
    process.execPath,
    ["--import", join(REPO, "scripts/bench-rss.mjs"), join(REPO, "bin/homelab.mjs"), "build", "--quiet", "--offline"],
    { cwd: dir, encoding: "utf8", env: process.env },
  );
  const ms = performance.now() - t0;
  if (res.status !== 0) throw new Error(`build failed in ${dir}:\n${res.stdout}\n${res.stderr}`);
  const m = /maxrss_kib=(\d+)/.exec(res.stderr);
  return { ms, rssMiB: m ? Number(m[1]) / 1024 : Number.NaN };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const cases = [
  { name: "default config", dir: scratch(0), target: 1500 },
  { name: "default + 100 apps", dir: scratch(100), target: 4000 },
];
const samples = new Map<string, Sample[]>(cases.map((c) => [c.name, []]));
// Interleave the cases so that machine noise hits both alike.
for (let i = 0; i < RUNS + 1; i++) {
  for (const c of cases) {
    const s = run(c.dir);
    if (i > 0) samples.get(c.name)!.push(s); // the first round warms the transform cache
  }
}
console.log(`homelab build, ${RUNS} runs each (median), ${process.version}, ${(await import("node:os")).cpus().length} cores`);
const base = median(samples.get(cases[0]!.name)!.map((s) => s.ms));
for (const c of cases) {
  const ss = samples.get(c.name)!;
  const ms = median(ss.map((s) => s.ms));
  const rss = Math.max(...ss.map((s) => s.rssMiB));
  console.log(
    `  ${c.name.padEnd(20)} wall ${ms.toFixed(0).padStart(5)} ms  (target < ${c.target} ms: ${ms < c.target ? "met" : "MISSED"})  peak RSS ${rss.toFixed(0)} MiB  ratio ${(ms / base).toFixed(2)}x`,
  );
}
for (const c of cases) rmSync(c.dir, { recursive: true, force: true });
