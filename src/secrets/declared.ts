/**
 * Secrets declared by components (one line each: name and keys) and the encrypted files that
 * supply them. The operator keeps `secrets/<app>/<name>.sops.yaml`; the build copies each into the
 * app's gitops folder, where a KSOPS generator decrypts it inside ArgoCD.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Issue } from "../errors.ts";
import { secretKeyProblem } from "./k8s-secret.ts";
import { inspectSopsText } from "./sops.ts";
import { Branch, getItem, toPlain } from "./tree.ts";

export interface SecretDecl {
  /** The component (= gitops folder and ArgoCD Application) that reads the Secret. */
  app: string;
  namespace: string;
  /** Secret name; also the file name `secrets/<app>/<name>.sops.yaml`. */
  name: string;
  /** Keys the component reads; each must be present in `data` or `stringData`. */
  keys: readonly string[];
  /** The config key that declares it (`apps[0].secrets[1]`), when it comes from homelab.config.ts. */
  declaredAt?: string;
}

/** Where the operator keeps the encrypted source of a declared Secret, relative to the repo root. */
export function secretSourcePath(d: Pick<SecretDecl, "app" | "name">): string {
  return `secrets/${d.app}/${d.name}.sops.yaml`;
}

/** Where the build puts it, next to the app's kustomization. */
export function secretGitopsPath(d: Pick<SecretDecl, "app" | "name">): string {
  return `gitops/${d.app}/${d.name}.sops.yaml`;
}

const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Reads and checks the encrypted file of every declared Secret. Returns the files to write into
 * gitops/ (content copied byte for byte) and every problem found; no key is needed.
 */
export function collectSecretFiles(decls: readonly SecretDecl[], repoRoot: string): { files: { path: string; content: string }[]; issues: Issue[] } {
  const files: { path: string; content: string }[] = [];
  const issues: Issue[] = [];
  const seen = new Set<string>();
  for (const d of decls) {
    const src = secretSourcePath(d);
    const subject = `Secret ${d.namespace}/${d.name}`;
    const issue = (path: string, message: string) => issues.push({ file: src, subject, path, message, check: "secrets" });
    if (!NAME_RE.test(d.app) || !NAME_RE.test(d.name)) {
      issue("", `app ${JSON.stringify(d.app)} and name ${JSON.stringify(d.name)} must be DNS labels`);
      continue;
    }
    if (seen.has(src)) {
      issue("", `declared twice for app ${d.app}`);
      continue;
    }
    seen.add(src);
    let content: string;
    try {
      content = readFileSync(join(repoRoot, src), "utf8");
    } catch {
      const sets = (d.keys.length ? d.keys : ["<key>"]).map((k) => `\`homelab secrets set ${src} ${k}\``);
      const by = d.declaredAt ? ` (${d.declaredAt} in homelab.config.ts)` : "";
      issue("", `declared secret${by} has no encrypted file ${src}; create it with ${sets.join(", then ")}`);
      continue;
    }
    const { problems, file } = inspectSopsText(content, "yaml", src);
    if (!file) {
      for (const p of problems) issue("/sops", p);
      continue;
    }
    const before = issues.length;
    for (const p of problems) issue("", p);
    if (file.branches.length !== 1) issue("", `holds ${file.branches.length} YAML documents; expected exactly one Secret`);
    const doc = file.branches[0] ?? new Branch();
    const plain = toPlain(doc) as Record<string, unknown>;
    if (typeof plain.kind === "string" && plain.kind.startsWith("ENC[")) {
      issue("", "apiVersion, kind and metadata are encrypted; encrypt Kubernetes Secrets with encrypted_regex ^(data|stringData)$ (the .sops.yaml rule for secrets/)");
      continue;
    }
    if (plain.apiVersion !== "v1" || plain.kind !== "Secret") issue("/kind", `is ${String(plain.apiVersion)}/${String(plain.kind)}, expected v1/Secret`);
    const meta = (plain.metadata ?? {}) as Record<string, unknown>;
    if (meta.name !== d.name) issue("/metadata/name", `is ${JSON.stringify(meta.name)}, expected ${JSON.stringify(d.name)}`);
    if (meta.namespace !== d.namespace) issue("/metadata/namespace", `is ${JSON.stringify(meta.namespace)}, expected ${JSON.stringify(d.namespace)}`);
    const present = new Map<string, { field: string; empty: boolean }>();
    for (const field of ["data", "stringData"]) {
      const b = getItem(doc, field)?.value;
      if (!(b instanceof Branch)) continue;
      for (const it of b.items) {
        if (typeof it.key !== "string") continue;
        const bad = secretKeyProblem(it.key);
        if (bad) issue(`/${field}/${it.key}`, `the key ${JSON.stringify(it.key)} ${bad}; the API server would reject this Secret`);
        // sops leaves empty strings unencrypted, so an empty value is visible without a key.
        const empty = it.value === "" || it.value === null;
        if (!present.get(it.key) || !empty) present.set(it.key, { field, empty });
      }
    }
    for (const k of d.keys) {
      const p = present.get(k);
      if (!p) issue(`/stringData/${k}`, `declared key ${JSON.stringify(k)} is missing from data/stringData`);
      else if (p.empty) issue(`/${p.field}/${k}`, `declared key ${JSON.stringify(k)} is empty; set it with \`homelab secrets set ${src} ${k}\``);
    }
    if (issues.length === before) files.push({ path: secretGitopsPath(d), content });
  }
  return { files, issues };
}
