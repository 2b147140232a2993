/**
 * `npm run bench`: median wall time and peak memory of the CLI's commands, side by side in one run with
 * `node -e 0` on the same machine (the ratios are what to compare across machines):
 *   - start-up: `homelab --help`, `secrets decrypt` of a small file, a no-op `build --check` (nothing changed
 *     since the last successful check);
 *   - a full `homelab build` (render + every check + write) of the default config and of one with 100 apps.
 * Every command runs in its own process, as an operator runs it, from the bundled CLI (rebuilt first when
 * stale), in a scratch copy of the repository. The rounds interleave the cases so machine noise hits all alike.
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
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

function run(cwd: string, args: string[], env: Record<string, string> = {}): Sample {
  const t0 = performance.now();
  const res = spawnSync(process.execPath, ["--import", join(REPO, "scripts/bench-rss.mjs"), ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  const ms = performance.now() - t0;
  if (res.status !== 0) throw new Error(`${args.join(" ")} failed in ${cwd}:\n${res.stdout}\n${res.stderr}`);
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
