/**
 * The host layer: everything outside the cluster, rendered from the same config into `hosts/<node>/`, a second
 * managed root beside the gitops tree (same writer, same `--check`, same plaintext scan). Pure apart from
 * reading the encrypted env file it checks.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Issue } from "../errors.ts";
import { InternalError } from "../errors.ts";
import type { Platform } from "../platform/platform.ts";
import { HEADER, toYaml, type RenderedFile } from "../render/render.ts";
import { hasSopsBlock } from "../secrets/sops.ts";
import { isEncryptedValue } from "../secrets/cipher.ts";
import { bootstrapScript } from "./bootstrap.ts";
import { chronyConf } from "./chrony.ts";
import { calicoInstallation } from "./cni.ts";
import { COMPOSE_FILES, COMPOSE_SECRET_KEYS, COMPOSE_SECRETS_FILE, composeEnvReferences, composeNode, composeStack } from "./compose.ts";
import { checkCompose } from "./compose-schema.ts";
import { containerdConfig } from "./containerd.ts";
import { modulesLoadFile, sysctlFile } from "./kernel.ts";
import { firstControlPlane, kubeadmDocuments } from "./kubeadm.ts";
import * as P from "./paths.ts";
import { runnerConfig } from "./runner.ts";
import { forgejoTunnelConfig } from "./tunnels.ts";

const TEXT_HEADER = "# Rendered by `homelab build` from homelab.config.ts and versions.yaml. Do not edit: edit the source and rebuild.\n";

const multiDoc = (docs: readonly unknown[]) => HEADER + docs.map((d) => toYaml(d)).join("---\n");

export interface HostPlan {
  readonly files: readonly RenderedFile[];
  readonly issues: readonly Issue[];
  readonly summary: { readonly nodes: number; readonly files: number; readonly composeServices: number };
}

/**
 * @param gitopsFiles the rendered gitops tree: the bootstrap applies two of its files, which must exist.
 * @param root the repository root (the encrypted env file is read from it).
 */
export function renderHosts(p: Platform, gitopsFiles: readonly RenderedFile[], root: string): HostPlan {
  const { config, versions } = p.ctx;
  const files: RenderedFile[] = [];
  const issues: Issue[] = [];
  const argocd = p.components.find((c) => c.name === "argocd");
  if (!argocd?.helm) throw new InternalError("the host layer needs the argocd component's Helm values");
  const pin = versions.charts[argocd.helm.chart]!;
  const rootFiles = [`${config.git.path}/root/appproject-${config.name}.yaml`, `${config.git.path}/root/application-root.yaml`];
  const rendered = new Set(gitopsFiles.map((f) => f.path));
  for (const f of rootFiles) if (!rendered.has(f)) throw new InternalError(`the bootstrap applies ${f}, which the gitops tree does not have`);

  const stackNode = composeNode(config);
  let composeServices = 0;
  const first = firstControlPlane(config);
  for (const node of config.nodes) {
    const dir = `${P.HOSTS_ROOT}/${node.name}`;
    const add = (path: string, content: string) => files.push({ path: `${dir}/${path}`, content });
    const init = node.name === first.name;
    const compose = node.name === stackNode.name;
    add(P.KUBEADM_CONFIG, multiDoc(kubeadmDocuments(config, node)));
    add(P.CONTAINERD_CONFIG, TEXT_HEADER + containerdConfig(versions));
    add(P.CHRONY_CONF, TEXT_HEADER + chronyConf(config));
    add(P.MODULES_FILE, TEXT_HEADER + modulesLoadFile());
    add(P.SYSCTL_FILE, TEXT_HEADER + sysctlFile());
    if (init) {
      add(P.CALICO_FILE, multiDoc(calicoInstallation(config)));
      add(P.ARGOCD_VALUES, HEADER + toYaml(argocd.helm.values));
    }
    if (compose) {
      const stack = composeStack(config, versions);
      composeServices = Object.keys(stack.services as object).length;
      const text = HEADER + toYaml(stack);
      issues.push(...checkCompose(stack, `${dir}/${P.COMPOSE_FILE}`));
      issues.push(...checkComposeSecrets(text, `${dir}/${P.COMPOSE_FILE}`, root));
      add(P.COMPOSE_FILE, text);
      add(COMPOSE_FILES.tunnelConfig, HEADER + toYaml(forgejoTunnelConfig(config)));
      add(COMPOSE_FILES.runnerConfig, HEADER + toYaml(runnerConfig()));
    }
    add(
      P.BOOTSTRAP_SCRIPT,
      bootstrapScript({ config, versions, node, compose, init, rootFiles, argocdChart: { name: argocd.helm.chart, repo: pin.repo, version: pin.version } }),
    );
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, issues, summary: { nodes: config.nodes.length, files: files.length, composeServices } };
}

/**
 * The stack's credentials: every variable the Compose file reads is one of the declared keys, and the
 * encrypted env file holds each declared key, encrypted.
 */
export function checkComposeSecrets(composeText: string, composeFile: string, root: string): Issue[] {
  const issues: Issue[] = [];
  const declared = Object.keys(COMPOSE_SECRET_KEYS);
  for (const ref of composeEnvReferences(composeText)) {
    if (!declared.includes(ref)) issues.push({ file: composeFile, subject: "Compose stack", path: `\${${ref}}`, message: `reads ${ref}, which is not a declared key of ${COMPOSE_SECRETS_FILE}`, check: "compose-secrets" });
  }
  const path = join(root, COMPOSE_SECRETS_FILE);
  const fix = `create it with \`homelab secrets set ${COMPOSE_SECRETS_FILE} '["<KEY>"]' …\` (docs/bootstrap.md)`;
  if (!existsSync(path)) {
    issues.push({ file: COMPOSE_SECRETS_FILE, subject: "Compose secrets", path: "", message: `missing; ${fix}`, check: "compose-secrets" });
    return issues;
  }
  const text = readFileSync(path, "utf8");
  if (!hasSopsBlock(text, "dotenv")) {
    issues.push({ file: COMPOSE_SECRETS_FILE, subject: "Compose secrets", path: "", message: "is not a sops-encrypted env file (no sops metadata)", check: "compose-secrets" });
    return issues;
  }
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m && !m[1]!.startsWith("sops_")) values.set(m[1]!, m[2]!);
  }
  for (const key of declared) {
    const v = values.get(key);
    if (v === undefined) issues.push({ file: COMPOSE_SECRETS_FILE, subject: "Compose secrets", path: key, message: `missing key ${key} (${COMPOSE_SECRET_KEYS[key as keyof typeof COMPOSE_SECRET_KEYS]}); ${fix.replace("<KEY>", key)}`, check: "compose-secrets" });
    else if (!isEncryptedValue(v)) issues.push({ file: COMPOSE_SECRETS_FILE, subject: "Compose secrets", path: key, message: `${key} is not encrypted`, check: "compose-secrets" });
  }
  return issues;
}
