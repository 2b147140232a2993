/**
 * KSOPS inside ArgoCD: the argo-cd chart values that give the repo-server the `ksops` and
 * `kustomize` binaries plus the age key, and the kustomize files that make ArgoCD decrypt a
 * component's `*.sops.yaml` while rendering.
 */
import { parseYamlFile } from "../model/yaml-aliases.ts";
import { UserError } from "../errors.ts";
import { inspectSopsText } from "./sops.ts";

/** The Secret the bootstrap creates once from the password manager; never stored in Git. */
export const SOPS_AGE_SECRET = { namespace: "argocd", name: "sops-age", key: "keys.txt" } as const;

/** Where the repo-server sees the age key; sops and KSOPS read SOPS_AGE_KEY_FILE. */
export const REPO_SERVER_KEY_DIR = "/.config/sops/age";
const TOOLS_DIR = "/custom-tools";
const TOOLS_VOLUME = "custom-tools";
const KEY_VOLUME = "sops-age";

/** Options KSOPS needs: exec KRM functions are an alpha kustomize feature. */
export const KUSTOMIZE_BUILD_OPTIONS = "--enable-alpha-plugins --enable-exec";

/**
 * `configs.cm` takes free-form keys (they become argocd-cm data), so `kustomize.buildOptions` is not
 * among the chart's defaults. The platform's Helm-values check should accept keys below this path.
 */
export const KSOPS_FREEFORM_VALUES = [
  { path: "configs.cm", reason: "argocd-cm data: every key is passed through to the ConfigMap" },
] as const;

function tagVersion(image: string): [number, number, number] {
  const noDigest = image.split("@")[0]!;
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  if (colon <= slash) throw new UserError(`KSOPS image ${JSON.stringify(image)} has no tag; pin a version such as viaductoss/ksops:v4.5.1`);
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(noDigest.slice(colon + 1));
  if (!m) throw new UserError(`KSOPS image tag in ${JSON.stringify(image)} is not a version (vX.Y.Z)`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/**
 * How the init container copies the binaries depends on the image: up to v4.3 it is Debian with a
 * shell; v4.4 is distroless without an installer (unusable here); v4.5.0 added `ksops install`, and
 * v4.5.1 made copying kustomize opt-in.
 */
function installCommand(image: string): { command: string[]; args?: string[] } {
  const [maj, min, patch] = tagVersion(image);
  const v = maj * 1_000_000 + min * 1_000 + patch;
  if (maj !== 4) throw new UserError(`KSOPS image ${image}: only KSOPS v4 (exec KRM function) is supported`);
  if (v < 4_004_000) {
    return {
      command: ["/bin/sh", "-c"],
      args: [`cp /usr/local/bin/ksops /usr/local/bin/kustomize ${TOOLS_DIR}/`],
    };
  }
  if (v < 4_005_000) {
    throw new UserError(`KSOPS image ${image}: v4.4.x images have neither a shell nor 'ksops install'; use v4.3.3 or v4.5.1 and later`);
  }
  if (v === 4_005_000) return { command: ["/usr/local/bin/ksops", "install", TOOLS_DIR] };
  return { command: ["/usr/local/bin/ksops", "install", "--with-kustomize", TOOLS_DIR] };
}

/**
 * The argo-cd chart (10.1.1) values that wire KSOPS into the repo-server; the platform deep-merges
 * them into the ArgoCD component's values. Every key exists in the chart's values.yaml except the
 * free-form keys under `configs.cm` (see KSOPS_FREEFORM_VALUES).
 */
export function ksopsArgoCdValues(v: {
  /** Pinned KSOPS image with tag, e.g. `docker.io/viaductoss/ksops:v4.5.1`. */
  ksopsImage: string;
}): Record<string, unknown> {
  const install = installCommand(v.ksopsImage);
  return {
    configs: {
      cm: {
        "kustomize.buildOptions": KUSTOMIZE_BUILD_OPTIONS,
      },
    },
    repoServer: {
      env: [
        { name: "XDG_CONFIG_HOME", value: "/.config" },
        { name: "SOPS_AGE_KEY_FILE", value: `${REPO_SERVER_KEY_DIR}/${SOPS_AGE_SECRET.key}` },
      ],
      volumes: [
        { name: TOOLS_VOLUME, emptyDir: {} },
        // Not optional: a missing key must stop the pod visibly instead of rendering undecrypted Secrets.
        { name: KEY_VOLUME, secret: { secretName: SOPS_AGE_SECRET.name, items: [{ key: SOPS_AGE_SECRET.key, path: SOPS_AGE_SECRET.key }] } },
      ],
      initContainers: [
        {
          name: "install-ksops",
          image: v.ksopsImage,
          imagePullPolicy: "IfNotPresent",
          ...install,
          volumeMounts: [{ name: TOOLS_VOLUME, mountPath: TOOLS_DIR }],
          resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 999,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
          },
        },
      ],
      volumeMounts: [
        { name: TOOLS_VOLUME, mountPath: "/usr/local/bin/kustomize", subPath: "kustomize" },
        { name: TOOLS_VOLUME, mountPath: "/usr/local/bin/ksops", subPath: "ksops" },
        { name: KEY_VOLUME, mountPath: REPO_SERVER_KEY_DIR, readOnly: true },
      ],
    },
  };
}

/** Name of the generator file written next to a component's kustomization. */
export const KSOPS_GENERATOR_FILE = "secret-generator.yaml";

/** A KSOPS v4 generator (exec KRM function) decrypting the listed files during `kustomize build`. */
export function ksopsGenerator(name: string, files: string[]): object {
  if (files.length === 0) throw new UserError(`ksops generator ${name}: no files to decrypt`);
  for (const f of files) {
    if (!/\.sops\.ya?ml$/.test(f) || f.startsWith("/") || f.split("/").includes("..")) {
      throw new UserError(`ksops generator ${name}: ${JSON.stringify(f)} must be a relative *.sops.yaml path inside the folder`);
    }
  }
  return {
    apiVersion: "viaduct.ai/v1",
    kind: "ksops",
    metadata: {
      name,
      annotations: {
        "config.kubernetes.io/function": "exec:\n  path: ksops\n",
      },
    },
    files: [...files],
  };
}

/** A kustomization listing plain resources and generator files (never a `*.sops.yaml` as a resource). */
export function kustomizationFor(resources: string[], generators: string[]): object {
  const bad = resources.filter((r) => /\.sops\.ya?ml$/.test(r));
  if (bad.length) {
    throw new UserError(`kustomization: ${bad.join(", ")} listed as resources would be applied still encrypted; list them in a ksops generator`);
  }
  return {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    resources: [...resources],
    ...(generators.length ? { generators: [...generators] } : {}),
  };
}

/**
 * The bootstrap step that creates the key Secret from the password manager: reads the identity on
 * stdin so it never lands in a file, the shell history or Git.
 */
export function bootstrapAgeSecretCommand(): string {
  return (
    `kubectl create namespace ${SOPS_AGE_SECRET.namespace} --dry-run=client -o yaml | kubectl apply -f - && ` +
    `kubectl -n ${SOPS_AGE_SECRET.namespace} create secret generic ${SOPS_AGE_SECRET.name} --from-file=${SOPS_AGE_SECRET.key}=/dev/stdin`
  );
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * Structural check of a gitops folder that decrypts secrets with KSOPS, for what `kubectl kustomize`
 * cannot run (it has no exec plugins): the kustomization lists each generator, each generator is a
 * KSOPS exec function, every file it names exists and is a valid sops-encrypted Secret, no sops
 * file is a plain resource, and no sops file is left out. `files` maps names in the folder to content.
 */
export function checkKsopsFolder(folder: string, files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const at = (f: string) => `${folder}/${f}`;
  const kName = ["kustomization.yaml", "kustomization.yml", "Kustomization"].find((n) => files.has(n));
  if (!kName) return [`${folder}: no kustomization.yaml`];
  let k: Record<string, unknown> | undefined;
  try {
    k = asRecord(parseYamlFile(files.get(kName)!, at(kName)));
  } catch (e) {
    return [(e as Error).message];
  }
  if (!k) return [`${at(kName)}: not a map`];
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
  for (const r of list(k.resources)) {
    if (/\.sops\.ya?ml$/.test(r)) problems.push(`${at(kName)}: ${r} is a resource and would be applied still encrypted`);
    else if (!files.has(r) && !r.includes("/")) problems.push(`${at(kName)}: resource ${r} does not exist`);
  }
  const covered = new Set<string>();
  for (const g of list(k.generators)) {
    const text = files.get(g);
    if (text === undefined) {
      problems.push(`${at(kName)}: generator ${g} does not exist`);
      continue;
    }
    let gen: Record<string, unknown> | undefined;
    try {
      gen = asRecord(parseYamlFile(text, at(g)));
    } catch {
      gen = undefined;
    }
    if (!gen || gen.apiVersion !== "viaduct.ai/v1" || gen.kind !== "ksops") {
      problems.push(`${at(g)}: not a KSOPS generator (apiVersion viaduct.ai/v1, kind ksops)`);
      continue;
    }
    const fn = asRecord(asRecord(gen.metadata)?.annotations)?.["config.kubernetes.io/function"];
    let path: unknown;
    try {
      path = asRecord(asRecord(parseYamlFile(String(fn ?? ""), at(g)))?.exec)?.path;
    } catch {
      path = undefined;
    }
    if (path !== "ksops") problems.push(`${at(g)}: missing the exec function annotation (config.kubernetes.io/function: exec: path: ksops)`);
    const names = list(gen.files);
    if (names.length === 0) problems.push(`${at(g)}: lists no files`);
    for (const f of names) {
      covered.add(f);
      const enc = files.get(f);
      if (enc === undefined) {
        problems.push(`${at(g)}: ${f} does not exist in the folder`);
        continue;
      }
      const { problems: p, file } = inspectSopsText(enc, "yaml", at(f));
      for (const x of p) problems.push(`${at(f)}: ${x}`);
      const doc = file?.branches[0];
      const kind = doc?.items.find((i) => i.key === "kind")?.value;
      if (file && kind !== "Secret") problems.push(`${at(f)}: expected a Kubernetes Secret, found kind ${String(kind)}`);
    }
  }
  for (const f of files.keys()) {
    if (/\.sops\.ya?ml$/.test(f) && !covered.has(f)) problems.push(`${at(f)}: not listed in any ksops generator, so it is never deployed`);
  }
  return problems;
}
