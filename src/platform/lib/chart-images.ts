/**
 * The image each declared container of a chart runs, read the way the chart's templates compose it: the
 * image block at the container's values path (`HelmRelease.containers[].image`) in Helm's merge of our
 * values over the chart's locked defaults, with the chart's own fallbacks (a shared block such as
 * argo-cd's `global.image`, a chart-wide registry, the chart's appVersion for an empty tag).
 *
 * A chart's pods are not in the rendered tree (Argo CD renders the chart), so this is the only place the
 * homelab knows what a chart will pull. The build refuses a declaration that reads nothing (a wrong path,
 * a block without a repository or a tag), so a typo cannot turn into a missing row on the site.
 */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import YAML from "yaml";
import { isPlainObject } from "../../model/k8s.ts";
import { coalesceValues, parseDotted } from "../../validate/helm-values.ts";
import type { ChartContainer, ChartImage } from "./component.ts";

/** The appVersion of a locked chart and of each vendored subchart stored with it (by subchart name). */
export interface AppVersions {
  readonly chart?: string;
  readonly subcharts: ReadonlyMap<string, string>;
}

export interface ChartImagesInput {
  readonly chart: string;
  readonly appVersions: AppVersions;
  /** The chart's locked values.yaml, with its subcharts' defaults under their names (as the chart lock reads it). */
  readonly defaults: unknown;
  /** Our values. */
  readonly values: Record<string, unknown>;
  readonly containers: readonly ChartContainer[];
}

export interface ContainerImage {
  readonly container: string;
  /** `registry/repository:tag@digest`, as the chart writes it into the pod spec. */
  readonly image: string;
  /** Whether a field of the reference came from our values, or all from the chart's defaults. */
  readonly source: "values" | "chart default";
}

export interface ChartImageProblem {
  readonly container: string;
  /** The dot path of the declaration that reads nothing. */
  readonly path: string;
  readonly message: string;
}

function valueAt(tree: unknown, segs: readonly string[]): unknown {
  let node = tree;
  for (const s of segs) {
    if (!isPlainObject(node)) return undefined;
    node = node[s];
  }
  return node;
}

/** A set scalar: Helm templates treat "", null and a missing key alike (`default`, `if`). */
function str(v: unknown): string | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

const IMAGE_FIELDS = ["registry", "repository", "image", "name", "tag", "digest", "sha"] as const;
type Field = (typeof IMAGE_FIELDS)[number];

export function normalizeImageDecl(decl: string | ChartImage): ChartImage {
  return typeof decl === "string" ? { values: decl } : decl;
}

/** The images of the containers that declare one; a declaration that reads nothing is a problem instead. */
export function chartImages(input: ChartImagesInput): { images: ContainerImage[]; problems: ChartImageProblem[] } {
  const merged = coalesceValues(input.defaults, input.values);
  const images: ContainerImage[] = [];
  const problems: ChartImageProblem[] = [];
  for (const c of input.containers) {
    if (c.image === undefined) continue;
    const decl = normalizeImageDecl(c.image);
    const problem = (message: string) => problems.push({ container: c.name, path: decl.values, message: `chart ${input.chart}, container ${c.name}: ${message}` });
    const segs = parseDotted(decl.values);
    // The block must exist in the chart itself: our values alone would make up a key the chart never reads.
    if (!isPlainObject(valueAt(input.defaults, segs))) {
      problem(`${decl.values} is not an image block of the chart (no map at that path in its values.yaml)`);
      continue;
    }
    let fromOurs = false;
    const read = (path: string | undefined): unknown => {
      if (path === undefined) return undefined;
      const p = parseDotted(path);
      if (str(valueAt(input.values, p)) !== undefined) fromOurs = true;
      return valueAt(merged, p);
    };
    const field = (f: Field): string | undefined => {
      const own = str(read(`${decl.values}.${f}`));
      return own ?? (decl.defaults !== undefined ? str(read(`${decl.defaults}.${f}`)) : undefined);
    };
    // The fallbacks too: a misspelt one would silently never apply.
    const wrong = [decl.defaults, decl.registryDefault, decl.namespace, ...(decl.registryOverride ?? [])].filter((p): p is string => {
      if (p === undefined) return false;
      const parent = valueAt(input.defaults, parseDotted(p).slice(0, -1));
      return !isPlainObject(parent) || (p === decl.defaults && !isPlainObject(valueAt(input.defaults, parseDotted(p))));
    });
    for (const p of wrong) problem(`${p} is not a values path of the chart`);
    if (wrong.length) continue;
    const override = (decl.registryOverride ?? []).map((p) => str(read(p))).find((v) => v !== undefined);
    const repository = field("repository");
    // `image` (ingress-nginx) and `name` (cert-manager) name the image without its registry.
    const name = field("image") ?? field("name");
    let ref: string;
    if (repository !== undefined) {
      ref = [override ?? field("registry"), repository].filter((x) => x !== undefined).join("/");
    } else if (name !== undefined) {
      const registry = override ?? field("registry") ?? str(read(decl.registryDefault));
      ref = [registry, str(read(decl.namespace)), name].filter((x) => x !== undefined).join("/");
    } else {
      problem(`the image block ${decl.values} has no repository (neither ours nor the chart's)`);
      continue;
    }
    const sub = segs.length > 1 ? input.appVersions.subcharts.get(segs[0]!) : undefined;
    const appVersion = sub ?? input.appVersions.chart;
    const tag = field("tag") ?? (decl.tag === "appVersion" && appVersion !== undefined ? `${decl.appVersionPrefix ?? ""}${appVersion}` : undefined);
    const variant = decl.variant !== undefined && read(`${decl.values}.${decl.variant.field}`) === true ? decl.variant.suffix : "";
    const sha = field("sha");
    const digest = field("digest") ?? (sha !== undefined ? (sha.startsWith("sha256:") ? sha : `sha256:${sha}`) : undefined);
    if (tag === undefined && digest === undefined) {
      problem(`the image block ${decl.values} has no tag${decl.tag === "appVersion" ? " and the chart has no appVersion" : ""} (neither ours nor the chart's)`);
      continue;
    }
    images.push({ container: c.name, image: `${ref}${tag !== undefined ? `:${tag}${variant}` : ""}${digest !== undefined ? `@${digest}` : ""}`, source: fromOurs ? "values" : "chart default" });
  }
  return { images, problems };
}

/** appVersions from a locked chart folder: its Chart.yaml and each `charts/<sub>/Chart.yaml` stored beside it. */
export async function readAppVersions(dir: string): Promise<AppVersions> {
  const appVersion = async (file: string): Promise<string | undefined> => {
    try {
      const meta: unknown = YAML.parse(await readFile(file, "utf8"), { schema: "failsafe" });
      return isPlainObject(meta) ? str(meta.appVersion) : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  };
  const subcharts = new Map<string, string>();
  let subs: string[] = [];
  try {
    subs = (await readdir(join(dir, "charts"), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  for (const s of subs.sort()) {
    const v = await appVersion(join(dir, "charts", s, "Chart.yaml"));
    if (v !== undefined) subcharts.set(s, v);
  }
  const chart = await appVersion(join(dir, "Chart.yaml"));
  return { ...(chart !== undefined && { chart }), subcharts };
}
