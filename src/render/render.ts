/**
 * Rendering is pure: config in, files out. Nothing here touches the disk, which keeps `--check`, diffs and
 * tests simple; `write.ts` is the only place that writes.
 */
import { ApiObject, App, Chart, DependencyGraph } from "cdk8s";
import { Document, visit } from "yaml";
import { needsQuotes } from "../secrets/yaml-scalars.ts";
import { YamlEmitter } from "./yaml-emit.ts";
import type { K8sObject, LocatedObject } from "../model/k8s.ts";
import type { Platform } from "../platform/platform.ts";
import type { Component } from "../platform/lib/component.ts";
import type { SecretDecl } from "../secrets/declared.ts";
import { withSecretChecksums } from "./secret-checksums.ts";
import { KSOPS_GENERATOR_FILE, ksopsGenerator, kustomizationFor } from "../secrets/ksops.ts";

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
function synthChart(chart: Chart, prepared: Set<App>): unknown[] {
  const app = App.of(chart) as App;
  if (!prepared.has(app)) {
    prepared.add(app);
    return chart.toJson();
  }
  return new DependencyGraph(chart.node)
    .topology()
    .filter((x): x is ApiObject => x instanceof ApiObject && Chart.of(x) === chart)
    .map((x) => x.toJson());
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
  const prepared = new Set<App>();
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
