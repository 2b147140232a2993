/**
 * Rendering is pure: config in, files out. Nothing here touches the disk, which keeps `--check`, diffs and
 * tests simple; `write.ts` is the only place that writes.
 */
import { cdk8s } from "../platform/lib/packages.ts";
import { Document, visit } from "yaml";
import { needsQuotes } from "../secrets/yaml-scalars.ts";
import { YamlEmitter } from "./yaml-emit.ts";
import type { K8sObject, LocatedObject } from "../model/k8s.ts";
import type { Platform } from "../platform/platform.ts";
import type { Component } from "../platform/lib/component.ts";
import type { SecretDecl } from "../secrets/declared.ts";
import { withSecretChecksums } from "./secret-checksums.ts";
import { KSOPS_GENERATOR_FILE, ksopsGenerator, kustomizationFor } from "../secrets/ksops.ts";

const { ApiObject, ApiObjectMetadataDefinition, App, Chart, DependencyGraph, ImplicitTokenResolver, LazyResolver, NumberStringUnionResolver } = cdk8s;
type ApiObject = InstanceType<typeof ApiObject>;
type App = InstanceType<typeof App>;
type Chart = InstanceType<typeof Chart>;

export const HEADER = "# Rendered by `homelab build` from homelab.config.ts and versions.yaml. Do not edit: edit the source and rebuild.\n";

export interface RenderedFile {
  /** Path relative to the repo root, with forward slashes. */
  readonly path: string;
  readonly content: string;
}

/** One gitops folder = one ArgoCD Application. */
export interface Folder {
  readonly name: string;
  readonly dir: string;
  readonly objects: readonly LocatedObject[];
  readonly secrets: readonly SecretDecl[];
}

export interface Plan {
  readonly files: readonly RenderedFile[];
  readonly objects: readonly LocatedObject[];
  readonly folders: readonly Folder[];
}

/**
 * The YAML of one rendered document. Written by the fast writer (yaml-emit.ts), which asks the reference
 * below how each distinct scalar is spelled; documents it cannot write go to the reference whole.
 */
export function toYaml(doc: unknown): string {
  return emitter.write(doc) ?? toYamlReference(doc);
}

/** The `yaml` library's rendering: the definition of what `toYaml` writes. */
export function toYamlReference(doc: unknown): string {
  // YAML 1.1 output quotes strings such as "on", "yes" and "y", which kubectl and Argo CD would read as
  // booleans. It leaves YAML 1.2 and Go spellings plain (`0o17`, `0O17`, `-0o7`, `0x_1F`), which the
  // YAML 1.2 readers and Go's number parsing behind kubectl's YAML read as numbers: those are quoted too.
  // Without the merge tag a `<<` in the data is text, and is quoted like the rest.
  const d = new Document(doc, {
    version: "1.1",
    aliasDuplicateObjects: false,
    customTags: (tags) => tags.filter((t) => typeof t === "string" || t.tag !== "tag:yaml.org,2002:merge"),
  });
  visit(d, {
    Scalar(_, n) {
      if (typeof n.value === "string" && needsQuotes(n.value)) n.type = "QUOTE_DOUBLE";
    },
  });
  return d.toString({ lineWidth: 0, indent: 2 });
}

const emitter = new YamlEmitter(toYamlReference);

function fileName(o: K8sObject, taken: Set<string>): string {
  const base = `${o.kind.toLowerCase()}-${o.metadata.name}`;
  let name = `${base}.yaml`;
  if (taken.has(name) && o.metadata.namespace) name = `${base}-${o.metadata.namespace}.yaml`;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}.yaml`;
  taken.add(name);
  return name;
}

/**
 * The chart's objects as JSON, in cdk8s's dependency order. cdk8s's `Chart.toJson()` resolves the
 * dependencies of, and validates, the whole App on every call, so rendering every chart that way grows with
 * charts × objects (1000 apps: minutes). Resolving is idempotent (dependencies are sets) and nothing changes
 * between the charts, so the first chart of each App goes through `toJson()` (which resolves and validates
 * the App once) and the rest take the same per-chart order cdk8s uses: the topology of the chart's
 * dependency graph, each object in its closest chart.
 */
function synthChart(chart: Chart, prepared: Map<App, { chart: Chart; json: unknown[] }>): unknown[] {
  const app = App.of(chart) as App;
  const prep = prepared.get(app);
  if (prep?.chart === chart) return prep.json;
  if (!prep) {
    // The App is resolved and validated through the chart with the fewest objects (whose output is kept for
    // its turn): the objects of every other chart go through `objectJson`.
    const charts = app.node.children.filter((c): c is Chart => c instanceof Chart);
    const count = (c: Chart) => c.node.findAll().length;
    const first = charts.reduce((a, b) => (count(b) < count(a) ? b : a), chart);
    prepared.set(app, { chart: first, json: first.toJson() });
    if (first === chart) return prepared.get(app)!.json;
  }
  return new DependencyGraph(chart.node)
    .topology()
    .filter((x): x is ApiObject => x instanceof ApiObject && Chart.of(x) === chart)
    .map((x) => objectJson(x));
}

/** Thrown inside `plainJson` for anything cdk8s's own `toJson` must handle. */
const NOT_PLAIN = Symbol("not plain");

/**
 * Whether `resolve` of cdk8s's default resolvers can replace nothing that is plain JSON data: they replace
 * a `Lazy`, anything with a `resolve` function and a non-plain object with a string or number `value`, and
 * primitives, arrays and plain objects reach those only through their prototypes.
 */
const PROTOTYPES_CLEAN = [Object.prototype, Array.prototype, String.prototype, Number.prototype, Boolean.prototype].every((p) => !("resolve" in p) && !("value" in p));
const DEFAULT_RESOLVERS = [LazyResolver, ImplicitTokenResolver, NumberStringUnionResolver];

/**
 * cdk8s's `resolve` then `sanitizeValue` (keys sorted; with `filterEmpty`, empty lists and maps dropped as
 * its metadata does) in one pass over plain JSON data: primitives kept, `null`/`undefined` dropped from maps
 * and turned into `undefined` in lists, maps rebuilt with their keys sorted. Throws NOT_PLAIN at anything
 * a resolver could replace or `sanitizeValue` refuses: a value that is not a primitive, a list or a map with
 * Object's own constructor, a map with a `resolve` function, a hole in a list, a `__proto__` key.
 */
function plainJson(v: unknown, filterEmpty: boolean): unknown {
  if (v === null || v === undefined) return undefined;
  const t = typeof v;
  if (t === "string" || t === "number" || t === "boolean") return v;
  if (t !== "object") throw NOT_PLAIN;
  if (Array.isArray(v)) {
    if (Object.getPrototypeOf(v) !== Array.prototype) throw NOT_PLAIN;
    if (filterEmpty && v.length === 0) return undefined;
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) throw NOT_PLAIN;
      out[i] = plainJson(v[i], filterEmpty);
    }
    return out;
  }
  const o = v as Record<string, unknown>;
  if (o.constructor !== Object || typeof o.resolve === "function") throw NOT_PLAIN;
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const k of Object.keys(o).sort()) {
    if (k === "__proto__") throw NOT_PLAIN;
    const x = plainJson(o[k], filterEmpty);
    if (x !== null && x !== undefined) {
      out[k] = x;
      kept++;
    }
  }
  return filterEmpty && kept === 0 ? undefined : out;
}

/**
 * `x.toJson()`, byte for byte, for an ApiObject of plain JSON data. cdk8s resolves each value through
 * every resolver of the App (a context object and a copy of the key path per value), then copies the
 * result again to sort its keys: ~0.5 s of a 1000-app render. Here both are one pass (`plainJson`),
 * the metadata first as cdk8s's `ApiObjectMetadataDefinition.toJson` does it, then the whole object, then
 * apiVersion, kind and metadata moved first. Anything else — JSON patches, other resolvers, a subclass's
 * own `toJson`, a value that is not plain data — goes to cdk8s's `toJson` itself.
 */
export function objectJson(x: ApiObject, cdk8s: (x: ApiObject) => unknown = (o) => o.toJson()): unknown {
  const self = x as unknown as { props: Record<string, unknown>; patches: readonly unknown[] };
  const md = x.metadata as unknown as {
    _additionalAttributes: Record<string, unknown>;
    name?: string;
    namespace?: string;
    annotations: unknown;
    finalizers: unknown;
    ownerReferences: unknown;
    labels: unknown;
  };
  const resolvers = (App.of(x) as App).resolvers;
  if (
    !PROTOTYPES_CLEAN ||
    x.toJson !== ApiObject.prototype.toJson ||
    x.metadata.toJson !== ApiObjectMetadataDefinition.prototype.toJson ||
    !Array.isArray(self.patches) ||
    self.patches.length > 0 ||
    resolvers.length !== DEFAULT_RESOLVERS.length ||
    resolvers.some((r, i) => Object.getPrototypeOf(r) !== DEFAULT_RESOLVERS[i]!.prototype)
  )
    return cdk8s(x);
  try {
    const metadata = plainJson(
      { ...md._additionalAttributes, name: md.name, namespace: md.namespace, annotations: md.annotations, finalizers: md.finalizers, ownerReferences: md.ownerReferences, labels: md.labels },
      true,
    );
    const json = plainJson({ ...self.props, metadata }, false) as Record<string, unknown>;
    const result: Record<string, unknown> = {};
    for (const k of ["apiVersion", "kind", "metadata", ...Object.keys(json)]) if (k in json) result[k] = json[k];
    return result;
  } catch (err) {
    if (err === NOT_PLAIN) return cdk8s(x);
    throw err;
  }
}

export interface RenderOptions {
  /**
   * The encrypted file of each declared Secret, keyed by `<app>/<name>`; copied next to the folder's
   * kustomization, where a KSOPS generator decrypts it inside Argo CD. Missing ones are left out here;
   * the build reports them.
   */
  readonly secretFiles?: ReadonlyMap<string, string>;
}

export function render(p: Platform, opts: RenderOptions = {}): Plan {
  const gitPath = p.ctx.config.git.path;
  const charts: { chart: Chart; secrets: readonly SecretDecl[] }[] = [
    { chart: p.root, secrets: [] },
    ...p.components.map((c: Component) => ({ chart: c, secrets: c.secrets })),
  ];
  const files: RenderedFile[] = [];
  const objects: LocatedObject[] = [];
  const folders: Folder[] = [];
  const prepared = new Map<App, { chart: Chart; json: unknown[] }>();
  for (const { chart, secrets } of charts) {
    const name = chart.node.id;
    const dir = `${gitPath}/${name}`;
    const taken = new Set<string>(["kustomization.yaml"]);
    const located: LocatedObject[] = [];
    const declared = secrets
      .map((d) => ({ name: d.name, file: `${d.name}.sops.yaml`, content: opts.secretFiles?.get(`${d.app}/${d.name}`) }))
      .filter((e): e is { name: string; file: string; content: string } => e.content !== undefined);
    const ciphertexts = new Map(declared.map((e) => [e.name, e.content]));
    for (const raw of synthChart(chart, prepared) as K8sObject[]) {
      const object = withSecretChecksums(raw, ciphertexts);
      const path = `${dir}/${fileName(object, taken)}`;
      located.push({ file: path, object });
      files.push({ path, content: HEADER + toYaml(object) });
    }
    const folder: Folder = { name, dir, objects: located, secrets };
    const resources = located.map((l) => l.file.slice(dir.length + 1)).sort();
    const encrypted = declared.map(({ file, content }) => ({ file, content })).sort((a, b) => a.file.localeCompare(b.file));
    for (const e of encrypted) files.push({ path: `${dir}/${e.file}`, content: e.content });
    if (encrypted.length) {
      files.push({
        path: `${dir}/${KSOPS_GENERATOR_FILE}`,
        content: HEADER + toYaml(ksopsGenerator(`${name}-secrets`, encrypted.map((e) => e.file))),
      });
    }
    const kustomization = kustomizationFor(resources, encrypted.length ? [KSOPS_GENERATOR_FILE] : []);
    files.push({ path: `${dir}/kustomization.yaml`, content: HEADER + toYaml(kustomization) });
    objects.push(...located);
    folders.push(folder);
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, objects, folders };
}
