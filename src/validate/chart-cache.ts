/**
 * The local cache of Helm chart defaults (Chart.yaml, values.yaml, values.schema.json).
 *
 * A cache directory holds one folder per chart version. Folder names carry no meaning: a folder
 * is matched by the `name` and `version` in its Chart.yaml, because two different charts may share
 * a name (grafana's and grafana-community's `loki`). On a miss, and only when allowed, the chart is
 * fetched from its classic HTTP repository (index.yaml + .tgz), its digest checked, and the three
 * files of the top-level chart are stored atomically in the first cache directory.
 */
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { Parser, type ReadEntry } from "tar";
import YAML from "yaml";
import { UserError } from "../errors.ts";
import { isPlainObject } from "../model/k8s.ts";
import { coalesceValues } from "./helm-values.ts";

export interface ChartRef {
  /** Chart name as in its Chart.yaml. */
  name: string;
  /** Helm repository URL (the folder holding index.yaml). */
  repo: string;
  /** Exact chart version as in its Chart.yaml (a leading `v` is not significant). */
  version: string;
}

export interface LoadChartOptions {
  /** Folders searched in order; downloads go to the first. */
  cacheDirs: string[];
  /** Whether a chart missing from every cache directory may be fetched from its repository. */
  download: boolean;
  /**
   * The HTTP client.
   * @default globalThis.fetch
   */
  fetchImpl?: typeof fetch;
}

export type ChartDefaults = { values: unknown; schema?: unknown; dir: string };

/** Where chart defaults are cached unless the caller says otherwise. */
export function defaultCacheDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const list = env.HOMELAB_CHART_CACHE;
  if (list !== undefined && list.trim() !== "") return list.split(":").filter((d) => d !== "");
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME !== "" ? env.XDG_CACHE_HOME : join(env.HOME || homedir(), ".cache");
  return [join(base, "homelab", "charts")];
}

function normVersion(v: string): string {
  return v.startsWith("v") ? v.slice(1) : v;
}

function chartKey(name: string, version: string): string {
  return `${name}@${normVersion(version)}`;
}

// One scan per cache directory per process: the build looks up several charts in the same folders.
const scans = new Map<string, Promise<Map<string, string>>>();

async function scan(dir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return found;
    throw err;
  }
  await Promise.all(
    names.sort().map(async (n) => {
      if (n.startsWith(".")) return;
      const chartYaml = join(dir, n, "Chart.yaml");
      let text: string;
      try {
        text = await readFile(chartYaml, "utf8");
      } catch {
        return;
      }
      let meta: unknown;
      try {
        meta = YAML.parse(text, { schema: "failsafe" });
      } catch (err) {
        throw new UserError(`chart cache: cannot parse ${chartYaml}: ${(err as Error).message}`);
      }
      if (isPlainObject(meta) && typeof meta.name === "string" && meta.version !== undefined) {
        const key = chartKey(meta.name, String(meta.version));
        // Sorted names make the pick deterministic if a chart is cached twice.
        if (!found.has(key)) found.set(key, join(dir, n));
      }
    }),
  );
  return found;
}

function scanned(dir: string): Promise<Map<string, string>> {
  let p = scans.get(dir);
  if (!p) {
    p = scan(dir);
    scans.set(dir, p);
    p.catch(() => scans.delete(dir));
  }
  return p;
}

/** Forgets every directory scan (for callers that change cache folders behind our back). */
export function clearChartCacheScans(): void {
  scans.clear();
}

// Parsing a large values.yaml (argo-cd's) takes most of a second; its JSON, keyed by the text's sha256, a few
// milliseconds. Kept beside the CLI's own dependencies, so a fresh clone starts without it.
const PARSED = new URL("../../node_modules/.cache/homelab/values/", import.meta.url);

/**
 * Values parsed ahead by {@link preparseValues}, by the sha256 of their text; a text it could not parse (or
 * send back) is missing, and parsed here as usual.
 */
let preparsed: Promise<Map<string, unknown>> | undefined;
/** Its worker: not holding the process open by itself (a build that fails early exits at once), only while awaited. */
let preparser: Worker | undefined;

/**
 * Parses the given values.yaml files that have no parsed JSON yet in a worker thread, so that a build
 * without that cache (a fresh clone) parses them on its second core while it renders and checks on the
 * first: about 1 MB of chart values, 1.2 s. The worker runs the same `yaml` module with the same options;
 * the values come back structured-cloned (plain data: the same objects, keys in the same order).
 * `parseValues` waits for the worker only for a text it was given.
 */
export function preparseValues(files: readonly string[]): void {
  if (!files.length) return;
  preparsed = parseAhead(files, (w) => {
    preparser = w;
    w.unref();
  });
}

/** The worker's run: the parsed values of `files` that have no JSON yet, by the sha256 of their text. */
export function parseAhead(files: readonly string[], started?: (w: Worker) => void): Promise<Map<string, unknown>> {
  const worker = new Worker(PREPARSE_WORKER, {
    eval: true,
    workerData: { files, parsed: fileURLToPath(PARSED), yaml: fileURLToPath(import.meta.resolve("yaml")) },
  });
  started?.(worker);
  return new Promise<Map<string, unknown>>((resolve) => {
    worker.once("message", (entries: [string, unknown][]) => resolve(new Map(entries)));
    // A worker that fails costs only the head start: everything is parsed here then.
    worker.once("error", () => resolve(new Map()));
    worker.once("exit", () => resolve(new Map()));
  });
}

const PREPARSE_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { existsSync, readFileSync } = require("node:fs");
const { join } = require("node:path");
const { createHash } = require("node:crypto");
// Loaded only for a file without JSON: a build whose values were all parsed before never needs it.
let YAML;
const out = [];
for (const file of workerData.files) {
  let text;
  try { text = readFileSync(file, "utf8"); } catch { continue; }
  const sha = createHash("sha256").update(text).digest("hex");
  if (existsSync(join(workerData.parsed, sha + ".json"))) continue;
  YAML ??= require(workerData.yaml);
  try { out.push([sha, YAML.parse(text, { merge: true }) ?? {}]); } catch { /* parsed (and reported) by the build */ }
}
parentPort.postMessage(out);
`;

/** A value handed out once: later callers parse their own copy (or read the JSON written meanwhile). */
function take(m: Map<string, unknown>, key: string): unknown {
  const v = m.get(key);
  m.delete(key);
  return v;
}

async function parseValues(text: string): Promise<unknown> {
  const sha = createHash("sha256").update(text).digest("hex");
  const file = new URL(`${sha}.json`, PARSED);
  try {
    return JSON.parse(await readFile(file, "utf8"));
  } catch {
    // not parsed before
  }
  // Helm reads values with YAML merge keys enabled.
  preparser?.ref();
  const ahead = preparsed && take(await preparsed, sha);
  const values: unknown = ahead !== undefined ? ahead : (YAML.parse(text, { merge: true }) ?? {});
  let json: string | undefined;
  try {
    // Only what JSON carries exactly (no .inf or .nan) is kept.
    json = JSON.stringify(values, (_k, v: unknown) => {
      if (typeof v === "number" && !Number.isFinite(v)) throw new Error("not JSON");
      return v;
    });
  } catch {
    json = undefined;
  }
  if (json !== undefined) {
    try {
      await mkdir(PARSED, { recursive: true });
      const tmp = new URL(`${file.pathname.split("/").pop()}.${process.pid}`, PARSED);
      await writeFile(tmp, json);
      await rename(tmp, file);
    } catch {
      // a read-only install only loses the speed-up
    }
  }
  return values;
}

/** The defaults stored in one chart folder (a cache entry or a lock entry). */
export async function readChartDefaults(dir: string): Promise<ChartDefaults> {
  const { own: valuesPath, subcharts } = chartValuesFiles(dir);
  let values: unknown = {};
  try {
    values = await parseValues(await readFile(valuesPath, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new UserError(`chart cache: cannot read ${valuesPath}: ${(err as Error).message}`);
    }
  }
  // Helm gives a vendored subchart its own defaults under its name, with the parent's values for that
  // key on top: check keys against the same merge (kube-prometheus-stack's `grafana.*`).
  values = await withSubchartDefaults(subcharts, values);
  const schemaPath = join(dir, "values.schema.json");
  let schema: unknown;
  try {
    schema = JSON.parse(await readFile(schemaPath, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new UserError(`chart cache: cannot read ${schemaPath}: ${(err as Error).message}`);
    }
  }
  return schema === undefined ? { values, dir } : { values, schema, dir };
}

/**
 * The values files of a chart folder (a cache or lock entry): its own values.yaml, and each vendored
 * subchart's (charts/<name>/values.yaml), in name order. Files may be missing.
 */
export function chartValuesFiles(dir: string): { readonly own: string; readonly subcharts: readonly { readonly name: string; readonly path: string }[] } {
  let names: string[] = [];
  try {
    names = readdirSync(join(dir, "charts"), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    // no vendored subcharts
  }
  return { own: join(dir, "values.yaml"), subcharts: names.map((name) => ({ name, path: join(dir, "charts", name, "values.yaml") })) };
}

async function withSubchartDefaults(subs: ReturnType<typeof chartValuesFiles>["subcharts"], values: unknown): Promise<unknown> {
  if (!isPlainObject(values) || !subs.length) return values;
  const out: Record<string, unknown> = { ...values };
  for (const { name, path } of subs) {
    let subValues: unknown;
    try {
      subValues = await parseValues(await readFile(path, "utf8"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw new UserError(`chart cache: cannot read ${path}: ${(err as Error).message}`);
    }
    out[name] = coalesceValues(subValues, values[name]);
  }
  return out;
}

/**
 * The defaults of `ref` from the first cache directory that has them, downloading them into
 * `cacheDirs[0]` when allowed. `{ missing }` explains a miss when downloads are not allowed.
 * Download problems (network, missing version, digest mismatch) throw a {@link UserError} naming
 * the chart, version and URL.
 */
export async function loadChartDefaults(ref: ChartRef, opts: LoadChartOptions): Promise<ChartDefaults | { missing: string }> {
  const key = chartKey(ref.name, ref.version);
  for (const dir of opts.cacheDirs) {
    const hit = (await scanned(dir)).get(key);
    if (hit) return readChartDefaults(hit);
  }
  if (!opts.download) {
    return {
      missing:
        `chart ${ref.name} ${ref.version} (${ref.repo}) is not in the chart cache ` +
        `(${opts.cacheDirs.join(", ") || "no cache folders"}); allow downloads or add its Chart.yaml and values.yaml there`,
    };
  }
  const first = opts.cacheDirs[0];
  if (first === undefined) throw new UserError(`chart ${ref.name} ${ref.version}: no chart cache folder to download into`);
  const { dir } = await fetchChart(ref, first, { fetchImpl: opts.fetchImpl ?? globalThis.fetch });
  (await scanned(first)).set(key, dir);
  return readChartDefaults(dir);
}

// ---------------------------------------------------------------------------------------------
// Download

const WANTED = new Set(["Chart.yaml", "values.yaml", "values.schema.json"]);
const TIMEOUT_MS = 120_000;

async function get(fetchImpl: typeof fetch, url: string, what: string): Promise<Buffer> {
  let res: Response;
  try {
    res = await fetchImpl(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new UserError(`${what}: cannot fetch ${url}: ${(err as Error).message}`);
  }
  if (!res.ok) throw new UserError(`${what}: ${url} answered HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

function repoBase(repo: string): string {
  return repo.endsWith("/") ? repo : repo + "/";
}

/** Where a fetched chart came from: the archive's URL and its sha256 (checked against the index when it lists one). */
export interface FetchedChart {
  readonly dir: string;
  readonly url: string;
  readonly sha256: string;
}

/**
 * Downloads `ref` from its classic HTTP repository into `<cacheDir>/<name>-<version>/`, digest-checked:
 * the top-level Chart.yaml, values.yaml and values.schema.json, and with `subcharts` the same three files
 * of each vendored subchart under `charts/<sub>/`.
 */
export async function fetchChart(
  ref: ChartRef,
  cacheDir: string,
  opts: { fetchImpl?: typeof fetch; subcharts?: boolean } = {},
): Promise<FetchedChart> {
  const fetchImpl = opts.fetchImpl ?? globalThis.fetch;
  const what = `chart ${ref.name} ${ref.version}`;
  // Both end up in a folder name.
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(ref.name) || !/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(ref.version)) {
    throw new UserError(`${what}: name and version may only contain letters, digits, '.', '_', '+' and '-'`);
  }
  if (!/^https?:\/\//.test(ref.repo)) {
    throw new UserError(`${what}: repository ${ref.repo} is not an http(s) chart repository (OCI registries are not supported)`);
  }
  const indexUrl = new URL("index.yaml", repoBase(ref.repo)).href;
  let index: unknown;
  try {
    // Strings only: an unquoted all-digit digest or a version like 1.10 must not turn into a number.
    index = YAML.parse((await get(fetchImpl, indexUrl, what)).toString("utf8"), { schema: "failsafe", maxAliasCount: -1 });
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${what}: cannot parse ${indexUrl}: ${(err as Error).message}`);
  }
  const entries = isPlainObject(index) && isPlainObject(index.entries) ? index.entries[ref.name] : undefined;
  if (!Array.isArray(entries)) throw new UserError(`${what}: ${indexUrl} has no chart named ${ref.name}`);
  const entry = entries.find((e) => isPlainObject(e) && e.version !== undefined && normVersion(String(e.version)) === normVersion(ref.version));
  if (!isPlainObject(entry)) throw new UserError(`${what}: ${indexUrl} lists no version ${ref.version} of ${ref.name}`);
  const first = Array.isArray(entry.urls) ? entry.urls[0] : undefined;
  if (typeof first !== "string") throw new UserError(`${what}: ${indexUrl} gives no download URL for it`);
  const tgzUrl = new URL(first, repoBase(ref.repo)).href;
  const tgz = await get(fetchImpl, tgzUrl, what);
  const actual = createHash("sha256").update(tgz).digest("hex");
  if (typeof entry.digest === "string" && entry.digest !== "") {
    if (actual !== entry.digest.toLowerCase()) {
      throw new UserError(`${what}: ${tgzUrl} has sha256 ${actual}, but ${indexUrl} says ${entry.digest}`);
    }
  }
  let files: Map<string, Buffer>;
  try {
    files = await topLevelFiles(tgz, opts.subcharts ?? false);
  } catch (err) {
    throw new UserError(`${what}: ${tgzUrl} is not a readable chart archive: ${(err as Error).message}`);
  }
  const chartYaml = files.get("Chart.yaml");
  if (!chartYaml) throw new UserError(`${what}: ${tgzUrl} has no top-level Chart.yaml`);
  const meta: unknown = YAML.parse(chartYaml.toString("utf8"), { schema: "failsafe" });
  if (!isPlainObject(meta) || meta.name !== ref.name || normVersion(String(meta.version)) !== normVersion(ref.version)) {
    const got = isPlainObject(meta) ? `${String(meta.name)} ${String(meta.version)}` : "no name/version";
    throw new UserError(`${what}: ${tgzUrl} contains ${got}`);
  }

  await mkdir(cacheDir, { recursive: true });
  const target = join(cacheDir, `${ref.name}-${ref.version}`);
  const tmp = await mkdtemp(join(cacheDir, `.tmp-${ref.name}-${ref.version}-`));
  try {
    for (const [name, data] of files) {
      await mkdir(dirname(join(tmp, name)), { recursive: true });
      await writeFile(join(tmp, name), data);
    }
    try {
      await rename(tmp, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Someone else stored it first (or a stale folder has that name): keep theirs if it is this chart.
      if ((code === "ENOTEMPTY" || code === "EEXIST") && (await sameChart(target, ref))) return { dir: target, url: tgzUrl, sha256: actual };
      throw new UserError(`${what}: cannot store it in ${target}: ${(err as Error).message}`);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { dir: target, url: tgzUrl, sha256: actual };
}

async function sameChart(dir: string, ref: ChartRef): Promise<boolean> {
  try {
    if (!(await stat(dir)).isDirectory()) return false;
    const meta: unknown = YAML.parse(await readFile(join(dir, "Chart.yaml"), "utf8"), { schema: "failsafe" });
    return isPlainObject(meta) && meta.name === ref.name && normVersion(String(meta.version)) === normVersion(ref.version);
  } catch {
    return false;
  }
}

/**
 * Chart.yaml, values.yaml and values.schema.json of the archive's top folder, keyed by file name; with
 * `subcharts`, also those of each vendored subchart folder, keyed `charts/<sub>/<file>`.
 */
function topLevelFiles(tgz: Buffer, subcharts: boolean): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    const files = new Map<string, Buffer>();
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        const parts = entry.path.replace(/^\.\//, "").split("/");
        const name = parts[parts.length - 1];
        const top = parts.length === 2;
        // charts/<sub>/<file>; the sub name is stored as a folder, so it must be a plain name.
        const sub = subcharts && parts.length === 4 && parts[1] === "charts" && /^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(parts[2]!);
        if (entry.type === "File" && (top || sub) && name !== undefined && WANTED.has(name)) {
          const key = parts.slice(1).join("/");
          const chunks: Buffer[] = [];
          entry.on("data", (c: Buffer) => chunks.push(c));
          entry.on("end", () => files.set(key, Buffer.concat(chunks)));
        } else {
          // A bare Parser waits until every entry's body has been consumed.
          entry.resume();
        }
      },
    });
    parser.on("error", reject);
    parser.on("end", () => resolve(files));
    parser.end(tgz);
  });
}
