/**
 * What the site shows, read from the same pipeline that renders gitops/: `runBuild` loads the config and
 * versions, builds the platform, renders and validates it. The site adds only what the build does not keep:
 * where this copy came from (provenance), the images each component runs, the encrypted files' recipients.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runBuild, type BuildResult } from "../../../../src/build/pipeline.ts";
import { UserError } from "../../../../src/errors.ts";
import { formatIssue } from "../../../../src/errors.ts";
import type { K8sObject } from "../../../../src/model/k8s.ts";
import { secretSourcePath, type SecretDecl } from "../../../../src/secrets/declared.ts";
import { inspectSopsText } from "../../../../src/secrets/sops.ts";
import { footprint, type Footprint } from "../../../../src/platform/lib/footprint.ts";
import { lockedDefaults } from "../../../../src/validate/chart-lock.ts";
import { chartImages, readAppVersions, type ContainerImage } from "../../../../src/platform/lib/chart-images.ts";
import { COMPOSE_SECRET_KEYS, COMPOSE_SECRETS_FILE, composeNode, composeStack } from "../../../../src/host/compose.ts";

/** Where this copy of the site came from; shown in every page's footer. */
export interface Provenance {
  /** The repository commit the site was generated from, with a note when the checkout had changes. */
  readonly commit: string;
  /** ISO 8601, UTC. */
  readonly builtAt: string;
  /** The site image's tag when built by the pipeline; otherwise what the config deploys. */
  readonly imageTag: string;
  /** The last commit that changed the gitops folder Argo CD syncs. */
  readonly gitopsRevision: string;
}

export interface SecretEntry {
  /** `namespace/name` of a Kubernetes Secret, or the encrypted env file of the Compose stack. */
  readonly name: string;
  /** Who reads it: a component, or the Compose stack on a node. */
  readonly readBy: string;
  /** The config key that declared it, when the operator did (an app's `secrets`). */
  readonly declaredAt?: string;
  readonly keys: readonly string[];
  readonly file: string;
  /** age recipients the data key is encrypted to (public keys). */
  readonly recipients: readonly string[];
  readonly lastModified?: string;
  readonly problem?: string;
}

export interface ComposeService {
  readonly name: string;
  readonly detail?: string;
  /** The tunnel for the Git host ends here. */
  readonly entry?: boolean;
  /** Serves the Git repository Argo CD watches. */
  readonly forge?: boolean;
  readonly talksTo?: readonly string[];
}

export interface SiteModel {
  readonly root: string;
  readonly build: BuildResult;
  readonly provenance: Provenance;
  /** Images per component, from the pod specs of its rendered objects. */
  readonly images: ReadonlyMap<string, readonly string[]>;
  /**
   * Per component that installs a chart, the image each declared chart container runs: the chart's
   * locked values.yaml merged with ours, as the build checks it (lib/chart-images.ts).
   */
  readonly chartImages: ReadonlyMap<string, readonly ContainerImage[]>;
  readonly secrets: readonly SecretEntry[];
  readonly compose: { readonly services: readonly ComposeService[]; readonly source: string };
  /** What `homelab footprint` reports: requests and limits per container against the nodes and the budget. */
  readonly footprint: Footprint;
}

export interface ModelOptions {
  /** Repository root. */
  readonly root: string;
  /** @default homelab.config.ts */
  readonly config?: string;
  /** @default versions.yaml */
  readonly versions?: string;
  /** Environment for the provenance (SITE_COMMIT, SITE_GITOPS_REVISION, SITE_IMAGE_TAG, SITE_BUILD_TIME). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default now */
  readonly now?: Date;
}

export async function siteModel(opts: ModelOptions): Promise<SiteModel> {
  const root = resolve(opts.root);
  const build = await runBuild({
    root,
    configPath: resolve(root, opts.config ?? "homelab.config.ts"),
    versionsPath: resolve(root, opts.versions ?? "versions.yaml"),
    // `homelab build` runs promtool; the site only shows the rules.
    promtool: false,
    ...(opts.now ? { today: opts.now } : {}),
  });
  const errors = build.issues.length + build.policy.counts.errors;
  if (errors > 0)
    throw new UserError(
      `the site is generated from a valid build only; \`homelab build\` reports ${build.issues.length} validation error(s) and ${build.policy.counts.errors} policy error(s)${build.issues.length ? `:\n${build.issues.slice(0, 10).map((i) => `  - ${formatIssue(i)}`).join("\n")}` : ""}`,
    );
  return {
    root,
    build,
    provenance: provenance(root, build, opts.env ?? process.env, opts.now ?? new Date()),
    images: imagesByComponent(build),
    ...(await chartFacts(root, build)),
    secrets: secretEntries(root, build),
    compose: composeStackOf(build),
  };
}

/** What the chart lock's defaults tell: the footprint (as `homelab footprint` computes it) and the charts' images. */
async function chartFacts(root: string, build: BuildResult): Promise<Pick<SiteModel, "footprint" | "chartImages">> {
  const locked = await lockedDefaults(root, build.versions);
  const chartDefaults = new Map<string, unknown>();
  const chartImagesOf = new Map<string, ContainerImage[]>();
  for (const c of build.platform.components) {
    const chart = c.helm ? locked.found.get(c.helm.chart) : undefined;
    // A chart missing from the lock already failed the build, and so did an image path that reads nothing.
    if (!chart) continue;
    const found = await chart.defaults();
    chartDefaults.set(c.helm!.chart, found.values);
    const { images } = chartImages({ chart: c.helm!.chart, appVersions: await readAppVersions(found.dir), defaults: found.values, values: c.helm!.values, containers: c.helm!.containers ?? [] });
    chartImagesOf.set(c.name, images);
  }
  return { footprint: footprintOf(build, chartDefaults), chartImages: chartImagesOf };
}

/** The same computation as `homelab footprint`, over the build's platform and the chart lock's defaults. */
function footprintOf(build: BuildResult, chartDefaults: ReadonlyMap<string, unknown>): Footprint {
  const folders = new Map(build.plan.folders.map((f) => [f.name, f.objects]));
  return footprint({
    config: build.config,
    components: build.platform.components.map((c) => ({ name: c.name, layer: c.props.layer, ...(c.helm && { helm: c.helm }), objects: folders.get(c.name) ?? [] })),
    chartDefaults,
  });
}

function git(root: string, args: string[]): string | undefined {
  try {
    return execFileSync("git", ["-C", root, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export function provenance(root: string, build: BuildResult, env: NodeJS.ProcessEnv, now: Date): Provenance {
  const gitPath = build.config.git.path;
  // The pipeline passes these in (a container build has no .git); a checkout asks git.
  let commit = env.SITE_COMMIT;
  if (!commit) {
    const head = git(root, ["rev-parse", "HEAD"]);
    const dirty = head && git(root, ["status", "--porcelain", "--untracked-files=no"]);
    commit = head ? `${head}${dirty ? " (with uncommitted changes)" : ""}` : "unknown (not a git checkout)";
  }
  const gitopsRevision = env.SITE_GITOPS_REVISION || git(root, ["log", "-1", "--format=%H", "--", gitPath]) || "unknown (not a git checkout)";
  const site = build.config.apps.find((a) => a.name === "site");
  const imageTag = env.SITE_IMAGE_TAG || (site ? `not an image build (the config deploys ${site.image}:${site.tag})` : "not an image build");
  const builtAt = env.SITE_BUILD_TIME || now.toISOString().replace(/\.\d{3}Z$/, "Z");
  return { commit, builtAt, imageTag, gitopsRevision };
}

type PodSpec = { containers?: { image?: string }[]; initContainers?: { image?: string }[] };

function podSpecOf(o: K8sObject): PodSpec | undefined {
  const spec = (o as { spec?: Record<string, unknown> }).spec;
  if (!spec) return undefined;
  if (o.kind === "Pod") return spec as PodSpec;
  if (o.kind === "CronJob") return ((spec.jobTemplate as { spec?: { template?: { spec?: PodSpec } } })?.spec?.template?.spec);
  return (spec.template as { spec?: PodSpec } | undefined)?.spec;
}

function imagesByComponent(build: BuildResult): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of build.plan.folders) {
    const images = new Set<string>();
    for (const { object } of f.objects) {
      const pod = podSpecOf(object);
      for (const c of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) if (c.image) images.add(c.image);
    }
    out.set(f.name, [...images].sort());
  }
  return out;
}

/** The encrypted file's public metadata: who can open it and when it last changed. No key is needed. */
function sopsMetadata(root: string, file: string, format: "yaml" | "dotenv"): Pick<SecretEntry, "recipients" | "lastModified" | "problem"> {
  const path = join(root, file);
  if (!existsSync(path)) return { recipients: [], problem: "no encrypted file yet" };
  const { file: f, problems } = inspectSopsText(readFileSync(path, "utf8"), format, file);
  if (!f) return { recipients: [], problem: problems.join("; ") };
  return { recipients: f.metadata.age.map((a) => a.recipient), lastModified: f.metadata.lastmodified };
}

function secretEntries(root: string, build: BuildResult): SecretEntry[] {
  const secrets: SecretEntry[] = build.platform.components.flatMap((c) =>
    c.secrets.map((d: SecretDecl) => {
      const file = secretSourcePath(d);
      return { name: `${d.namespace}/${d.name}`, readBy: d.app, ...(d.declaredAt && { declaredAt: d.declaredAt }), keys: d.keys, file, ...sopsMetadata(root, file, "yaml") };
    }),
  );
  const node = composeNode(build.config);
  secrets.push({ name: COMPOSE_SECRETS_FILE, readBy: `Compose stack on ${node.name}`, keys: Object.keys(COMPOSE_SECRET_KEYS), file: COMPOSE_SECRETS_FILE, ...sopsMetadata(root, COMPOSE_SECRETS_FILE, "dotenv") });
  return secrets;
}

/**
 * The Compose stack on the Forgejo host, from the same function that renders hosts/<node>/compose.yaml:
 * each service with its image tag, `depends_on` as the arrows, the Git tunnel ending at the service that
 * runs the cloudflared image and Argo CD watching the one that runs Forgejo.
 */
function composeStackOf(build: BuildResult): SiteModel["compose"] {
  const stack = composeStack(build.config, build.versions) as { services: Record<string, { image?: string; depends_on?: Record<string, unknown> }> };
  const runs = (image: string | undefined, name: string) => {
    const pin = build.versions.images[name];
    return !!pin && !!image && image.startsWith(`${pin.image}:`);
  };
  const node = composeNode(build.config);
  return {
    source: `as rendered into hosts/${node.name}/`,
    services: Object.entries(stack.services).map(([name, s]) => ({
      name,
      ...(s.image ? { detail: s.image.split("/").pop()! } : {}),
      ...(runs(s.image, "cloudflared") && { entry: true }),
      ...(runs(s.image, "forgejo") && { forge: true }),
      talksTo: Object.keys(s.depends_on ?? {}),
    })),
  };
}
