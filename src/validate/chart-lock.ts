/**
 * The chart lock: the chart data `homelab build` checks Helm values against, committed in `charts/`.
 *
 * For every chart pinned in versions.yaml the repository keeps the chart's own Chart.yaml, values.yaml and
 * values.schema.json (and those of its vendored subcharts under `charts/<sub>/`) in
 * `charts/<name>-<version>/`, and `charts/lock.yaml` records per chart its version and repository, where
 * the files came from, the archive's sha256 and the sha256 of every stored file. The build reads only these
 * files, so it needs no network, no cache folder and nothing beside the checkout; `homelab charts pull`
 * is the one way to refresh them, and it writes the whole folder at once.
 *
 * Why the upstream files and not a derived index: the Helm-values check needs the schema's own semantics
 * (types, enums, free-form maps, additionalProperties) and the defaults exactly as Helm reads them; copies
 * byte-for-byte equal to the published chart are what a reviewer can compare with upstream, and a chart bump
 * shows up in review as the upstream diff of its defaults.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import YAML from "yaml";
import type { Versions } from "../config/schema.ts";
import { UserError } from "../errors.ts";
import { isPlainObject } from "../model/k8s.ts";
import { writeTree } from "../render/write.ts";
import type { RenderedFile } from "../render/render.ts";
import { clearChartCacheScans, fetchChart, loadChartDefaults, readChartDefaults, type ChartDefaults, type ChartRef } from "./chart-cache.ts";

import { LOCK_DIR, LOCK_FILE, PULL_COMMAND } from "./lock-paths.ts";

export { LOCK_DIR, LOCK_FILE, PULL_COMMAND };

export interface LockEntry {
  readonly version: string;
  readonly repo: string;
  /** The archive URL it was downloaded from, or `local copy: <folder>` for `charts pull --from`. */
  readonly source: string;
  /** sha256 of the chart archive (checked against the repository index); absent for a local copy. */
  readonly archiveSha256?: string;
  /** Vendored subcharts whose defaults are stored too, name → version. */
  readonly subcharts?: Readonly<Record<string, string>>;
  /** Every stored file, relative to the chart's lock folder → its sha256. */
  readonly files: Readonly<Record<string, string>>;
}

export interface ChartLock {
  readonly charts: Readonly<Record<string, LockEntry>>;
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

function folderOf(name: string, version: string): string {
  return `${name}-${version}`;
}

/** The lock of the repository at `root`, or undefined when it has none. Throws on a malformed lock. */
export function readLock(root: string): ChartLock | undefined {
  const path = join(root, LOCK_FILE);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(path, "utf8"), { schema: "failsafe" });
  } catch (err) {
    throw new UserError(`${LOCK_FILE}: cannot parse it (${(err as Error).message}); run \`${PULL_COMMAND}\``);
  }
  if (!isPlainObject(raw) || !isPlainObject(raw.charts)) throw new UserError(`${LOCK_FILE}: no \`charts:\` map; run \`${PULL_COMMAND}\``);
  const charts: Record<string, LockEntry> = {};
  for (const [name, e] of Object.entries(raw.charts)) {
    if (!isPlainObject(e) || typeof e.version !== "string" || typeof e.repo !== "string" || !isPlainObject(e.files)) {
      throw new UserError(`${LOCK_FILE}: entry ${name} needs version, repo and files; run \`${PULL_COMMAND}\``);
    }
    charts[name] = e as unknown as LockEntry;
  }
  return { charts };
}

/** A verified lock entry; its defaults are parsed only when asked for (some charts' schemas are large). */
export interface LockedChart {
  readonly entry: LockEntry;
  /** The chart's lock folder. */
  readonly dir: string;
  defaults(): Promise<ChartDefaults>;
}

/**
 * The locked defaults of every chart pinned in `versions`, verified file by file against the lock, or the
 * problem with each chart that is not locked as pinned. Every problem names the command that fixes it.
 */
export async function lockedDefaults(
  root: string,
  versions: Versions,
): Promise<{ found: Map<string, LockedChart>; problems: Map<string, string> }> {
  const found = new Map<string, LockedChart>();
  const problems = new Map<string, string>();
  const lock = readLock(root);
  await Promise.all(Object.entries(versions.charts).map(async ([name, pin]) => {
    const entry = lock?.charts[name];
    const fix = `run \`${PULL_COMMAND}\` and commit ${LOCK_DIR}/`;
    if (!lock) {
      problems.set(name, `chart ${name} ${pin.version} is pinned in versions.yaml but there is no ${LOCK_FILE}; ${fix}`);
      return;
    }
    if (!entry) {
      problems.set(name, `chart ${name} ${pin.version} is pinned in versions.yaml but has no entry in ${LOCK_FILE}; ${fix}`);
      return;
    }
    if (entry.version !== pin.version || entry.repo !== pin.repo) {
      problems.set(
        name,
        `chart ${name} is pinned at ${pin.version} from ${pin.repo} in versions.yaml, but ${LOCK_FILE} holds ${entry.version} from ${entry.repo}; ${fix}`,
      );
      return;
    }
    const dir = join(root, LOCK_DIR, folderOf(name, pin.version));
    const bad = await verifyFiles(dir, entry);
    if (bad) {
      problems.set(name, `chart ${name} ${pin.version}: ${bad} (a hand edit?); ${fix}`);
      return;
    }
    found.set(name, { entry, dir, defaults: () => readChartDefaults(dir) });
  }));
  return { found, problems: new Map([...problems].sort(([a], [b]) => a.localeCompare(b))) };
}

/** Why the files in `dir` differ from the lock entry, or undefined when they match exactly. */
async function verifyFiles(dir: string, entry: LockEntry): Promise<string | undefined> {
  const rel = (f: string) => `${relative(process.cwd(), join(dir, f)) || f}`;
  for (const [file, want] of Object.entries(entry.files)) {
    let data: Buffer;
    try {
      data = await readFile(join(dir, file));
    } catch {
      return `${rel(file)} is missing`;
    }
    if (sha256(data) !== want) return `${rel(file)} does not match its sha256 in ${LOCK_FILE}`;
  }
  const listed = new Set(Object.keys(entry.files));
  for (const f of await listFiles(dir)) if (!listed.has(f)) return `${rel(f)} is not listed in ${LOCK_FILE}`;
  return undefined;
}

async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(join(dir, prefix), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, p)));
    else out.push(p);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// homelab charts pull

export interface PullOptions {
  readonly root: string;
  readonly versions: Versions;
  /**
   * Take the charts from this folder of chart folders (each with Chart.yaml, values.yaml and maybe
   * values.schema.json, found by the name and version in its Chart.yaml) instead of their repositories.
   */
  readonly from?: string;
  /** Download every chart again even when its lock entry is current. */
  readonly refresh?: boolean;
  readonly fetchImpl?: typeof fetch;
}

export interface PullResult {
  /** Per chart: `kept`, `added` or `updated`, with the source. */
  readonly charts: readonly { name: string; version: string; action: "kept" | "added" | "updated"; source: string }[];
  /** Lock entries dropped because versions.yaml no longer pins them (`name version`). */
  readonly removed: readonly string[];
  /** Subcharts a chart depends on that the source did not have (`chart: sub version`). */
  readonly notes: readonly string[];
}

/**
 * Rewrites `charts/` for exactly the charts pinned in `versions`: current entries are kept (after checking
 * their files), the others are downloaded digest-checked from their repository (or read from `from`), and
 * entries of versions no longer pinned are removed. Nothing is written unless every chart was obtained.
 */
export async function pullCharts(opts: PullOptions): Promise<PullResult> {
  const { root, versions } = opts;
  const old = readLock(root);
  const staging = await mkdtemp(join(tmpdir(), "homelab-charts-pull-"));
  try {
    const files: RenderedFile[] = [];
    const lock: Record<string, LockEntry> = {};
    const charts: PullResult["charts"][number][] = [];
    const notes: string[] = [];
    for (const [name, pin] of Object.entries(versions.charts).sort(([a], [b]) => a.localeCompare(b))) {
      const ref: ChartRef = { name, repo: pin.repo, version: pin.version };
      const folder = folderOf(name, pin.version);
      const prev = old?.charts[name];
      const current =
        !opts.refresh &&
        prev !== undefined &&
        prev.version === pin.version &&
        prev.repo === pin.repo &&
        (await verifyFiles(join(root, LOCK_DIR, folder), prev)) === undefined;
      let dir: string;
      let entry: Omit<LockEntry, "files">;
      if (current) {
        dir = join(root, LOCK_DIR, folder);
        const { files: _f, ...rest } = prev;
        entry = rest;
      } else if (opts.from !== undefined) {
        const got = await fromFolder(ref, resolve(opts.from), root, staging);
        dir = got.dir;
        entry = got.entry;
        notes.push(...got.notes);
      } else {
        const got = await fetchChart(ref, staging, { subcharts: true, ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}) });
        dir = got.dir;
        entry = { version: pin.version, repo: pin.repo, source: got.url, archiveSha256: got.sha256, ...subchartsOf(await chartDeps(dir)) };
      }
      const hashes: Record<string, string> = {};
      for (const f of (await listFiles(dir)).sort()) {
        const content = await readFile(join(dir, f), "utf8");
        hashes[f] = sha256(content);
        files.push({ path: `${LOCK_DIR}/${folder}/${f}`, content });
      }
      lock[name] = { ...entry, files: hashes };
      charts.push({ name, version: pin.version, action: current ? "kept" : prev ? "updated" : "added", source: entry.source });
    }
    const removed = Object.entries(old?.charts ?? {})
      .filter(([name, e]) => versions.charts[name]?.version !== e.version)
      .map(([name, e]) => `${name} ${e.version}`);
    files.push({ path: LOCK_FILE, content: lockYaml(lock) });
    writeTree(root, [LOCK_DIR], files);
    return { charts, removed, notes };
  } finally {
    clearChartCacheScans();
    await rm(staging, { recursive: true, force: true });
  }
}

function lockYaml(charts: Record<string, LockEntry>): string {
  return (
    "# The chart data `homelab build` checks Helm values against: one folder per chart pinned in versions.yaml.\n" +
    `# Written by \`${PULL_COMMAND}\`; never edit it or the chart folders by hand (the build checks every sha256).\n` +
    YAML.stringify({ charts }, { lineWidth: 0 })
  );
}

interface Dependency {
  name: string;
  version: string;
  repository: string;
}

async function chartDeps(dir: string): Promise<{ deps: Dependency[]; present: Map<string, string> }> {
  const meta: unknown = YAML.parse(await readFile(join(dir, "Chart.yaml"), "utf8"), { schema: "failsafe" });
  const deps = isPlainObject(meta) && Array.isArray(meta.dependencies) ? meta.dependencies : [];
  const present = new Map<string, string>();
  for (const sub of await readdir(join(dir, "charts")).catch(() => [] as string[])) {
    const m: unknown = await readFile(join(dir, "charts", sub, "Chart.yaml"), "utf8").then((t) => YAML.parse(t, { schema: "failsafe" }), () => undefined);
    if (isPlainObject(m) && typeof m.version === "string") present.set(sub, m.version);
  }
  return {
    deps: deps.filter(isPlainObject).map((d) => ({ name: String(d.name), version: String(d.version ?? ""), repository: String(d.repository ?? "") })),
    present,
  };
}

function subchartsOf({ present }: { present: Map<string, string> }): { subcharts?: Record<string, string> } {
  return present.size ? { subcharts: Object.fromEntries([...present].sort(([a], [b]) => a.localeCompare(b))) } : {};
}

/**
 * `charts pull --from DIR`: the same files a pull stores, from a folder of chart folders. A folder may carry a
 * `REPO` file naming its Helm repository; when it does, it must be the repository versions.yaml pins, so
 * two charts of one name (grafana's and grafana-community's `loki`) are never mixed up.
 */
async function fromFolder(
  ref: ChartRef,
  from: string,
  root: string,
  staging: string,
): Promise<{ dir: string; entry: Omit<LockEntry, "files">; notes: string[] }> {
  const found = await loadChartDefaults(ref, { cacheDirs: [from], download: false });
  if ("missing" in found) throw new UserError(`charts pull --from ${from}: no folder there holds chart ${ref.name} ${ref.version} (matched by its Chart.yaml)`);
  await checkRepo(found.dir, ref.repo, `chart ${ref.name} ${ref.version}`);
  // Stage the chart with its subcharts, as a download would lay it out.
  const staged = join(staging, `from-${folderOf(ref.name, ref.version)}`);
  await mkdir(staged, { recursive: true });
  const notes: string[] = [];
  for (const f of ["Chart.yaml", "values.yaml", "values.schema.json"]) {
    if (existsSync(join(found.dir, f))) await cp(join(found.dir, f), join(staged, f));
  }
  const { deps } = await chartDeps(found.dir);
  for (const d of deps) {
    // A subchart without a repository lives inside the chart's own source (e.g. its `crds`), not in `from`.
    if (d.repository === "") continue;
    // Only an exactly pinned subchart can be matched to a folder.
    if (!/^v?\d+\.\d+\.\d+$/.test(d.version)) {
      notes.push(`${ref.name}: subchart ${d.name} ${d.version || "(no version)"} not locked (not an exact version from a repository)`);
      continue;
    }
    const sub = await loadChartDefaults({ name: d.name, version: d.version, repo: d.repository }, { cacheDirs: [from], download: false });
    if ("missing" in sub) {
      notes.push(`${ref.name}: subchart ${d.name} ${d.version} not locked (not in ${from})`);
      continue;
    }
    await checkRepo(sub.dir, d.repository, `subchart ${d.name} ${d.version} of ${ref.name}`);
    for (const f of ["Chart.yaml", "values.yaml", "values.schema.json"]) {
      if (existsSync(join(sub.dir, f))) await cp(join(sub.dir, f), join(staged, "charts", d.name, f), { recursive: true });
    }
  }
  const present = (await chartDeps(staged)).present;
  const source = `local copy: ${relative(root, found.dir) || found.dir}`;
  return { dir: staged, entry: { version: ref.version, repo: ref.repo, source, ...subchartsOf({ present }) }, notes };
}

async function checkRepo(dir: string, repo: string, what: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(join(dir, "REPO"), "utf8");
  } catch {
    return;
  }
  const first = text.split("\n").map((l) => l.trim()).find((l) => l !== "" && !l.startsWith("#"));
  const norm = (u: string) => u.replace(/\/+$/, "");
  if (first !== undefined && norm(first) !== norm(repo)) {
    throw new UserError(`${what}: ${join(dir, "REPO")} names repository ${first}, but versions.yaml pins ${repo}`);
  }
}
