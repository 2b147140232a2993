/**
 * The root of the GitOps loop: an AppProject that admits only our repository and the pinned chart
 * repositories, and one Application per component (plus the root app itself), ordered by sync waves.
 */
import { cdk8s } from "./packages.ts";
import type { Construct } from "constructs";
import type { K8sObject } from "../../model/k8s.ts";
import type { Component } from "./component.ts";
import type { PlatformContext } from "./context.ts";

const { ApiObject, Chart } = cdk8s;

export const ROOT = "root";
export const ARGOCD_NAMESPACE = "argocd";
const IN_CLUSTER = "https://kubernetes.default.svc";

/** Cluster-scoped kinds the components may create; anything else is refused by the AppProject. */
const CLUSTER_KINDS = [
  ["", "Namespace"],
  ["apiextensions.k8s.io", "CustomResourceDefinition"],
  ["rbac.authorization.k8s.io", "ClusterRole"],
  ["rbac.authorization.k8s.io", "ClusterRoleBinding"],
  ["admissionregistration.k8s.io", "ValidatingWebhookConfiguration"],
  ["admissionregistration.k8s.io", "MutatingWebhookConfiguration"],
  ["networking.k8s.io", "IngressClass"],
  ["cert-manager.io", "ClusterIssuer"],
  ["storage.k8s.io", "StorageClass"],
] as const;

/** The repository Secret the bootstrap runbook creates when the Forgejo repository is private. */
export const REPO_SECRET = "forgejo-homelab";

/**
 * Objects that exist in our namespaces without being in Git, by design: certificates and keys the
 * controllers generate, and what the bootstrap runbook creates by hand (the age key, the repository
 * credentials). Anything else unmanaged is reported. `argocd-secret` is not here: the chart manages it.
 * No Helm release Secret either: the bootstrap installs Argo CD from the rendered chart, not with
 * `helm install` (docs/bootstrap.md), so no release is left for a later `helm upgrade` to fight over.
 */
export const EXPECTED_UNMANAGED = [
  { kind: "Secret", name: "*-tls" },
  { kind: "Secret", name: "letsencrypt-*-account-key" },
  { kind: "Secret", name: "cert-manager-webhook-ca" },
  { kind: "Secret", name: "ingress-nginx-admission" },
  { kind: "Secret", name: "argocd-initial-admin-secret" },
  { kind: "Secret", name: "argocd-redis" },
  { kind: "Secret", name: "sops-age" },
  { kind: "Secret", name: REPO_SECRET },
  { kind: "ConfigMap", name: "kube-root-ca.crt" },
  { kind: "ServiceAccount", name: "default" },
];

/** The built-in `default` project with nothing allowed (Argo CD's documented lock-down). */
export const LOCKED_DEFAULT_PROJECT = {
  description: "Locked: every Application names its own project",
  sourceRepos: [],
  sourceNamespaces: [],
  destinations: [],
  clusterResourceWhitelist: [],
  namespaceResourceBlacklist: [{ group: "*", kind: "*" }],
};

/** Retry with backoff: the first bootstrap converges even when a webhook is still starting. */
export const RETRY = { limit: 10, backoff: { duration: "10s", factor: 2, maxDuration: "5m" } };

export function chartRepoURLs(ctx: PlatformContext, components: readonly Component[]): string[] {
  return [...new Set(components.flatMap((c) => (c.helm ? [ctx.versions.charts[c.helm.chart]!.repo] : [])))].sort();
}

export class GitOpsRoot extends Chart {
  constructor(scope: Construct, ctx: PlatformContext, components: readonly Component[]) {
    super(scope, ROOT, { disableResourceNameHashes: true });
    const { config } = ctx;
    const project = config.name;
    const namespaces = [...new Set([ARGOCD_NAMESPACE, ...components.flatMap((c) => [c.name, ...(c.props.alsoIn ?? []).map((x) => x.namespace)])])].sort();
    let seq = 0;
    const add = (o: K8sObject) => new ApiObject(this, `o${seq++}`, o as never);

    add({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "AppProject",
      metadata: { name: project, namespace: ARGOCD_NAMESPACE, annotations: { "argocd.argoproj.io/sync-wave": "-10" } },
      spec: {
        description: `Everything in ${config.domain}, rendered by homelab build`,
        sourceRepos: [ctx.gitRepoURL, ...chartRepoURLs(ctx, components)],
        destinations: namespaces.map((namespace) => ({ server: IN_CLUSTER, namespace })),
        clusterResourceWhitelist: CLUSTER_KINDS.map(([group, kind]) => ({ group, kind })),
        orphanedResources: { warn: true, ignore: EXPECTED_UNMANAGED.map((o) => ({ group: "", ...o })) },
      },
    });
    // Argo CD's built-in project allows every source, destination and kind. With kustomize exec plugins
    // on and the age key mounted in the repo-server, an Application in it could run code there from any
    // repository: lock it to nothing (Argo CD keeps the object, so it is declared rather than deleted).
    add({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "AppProject",
      metadata: { name: "default", namespace: ARGOCD_NAMESPACE, annotations: { "argocd.argoproj.io/sync-wave": "-10" } },
      spec: LOCKED_DEFAULT_PROJECT,
    });
    add(application(ctx, ROOT, { wave: -10, namespace: ARGOCD_NAMESPACE, path: `${config.git.path}/${ROOT}`, prune: true }));
    for (const c of components) {
      const chart = c.helm ? ctx.versions.charts[c.helm.chart]! : undefined;
      add(
        application(ctx, c.name, {
          wave: c.props.wave,
          namespace: c.name,
          path: `${config.git.path}/${c.name}`,
          syncOptions: c.props.syncOptions ?? [],
          // Deleting Argo CD's own Application must never delete Argo CD.
          finalizer: c.name !== ARGOCD_NAMESPACE,
          ...(c.helm && chart
            ? {
                helm: {
                  repoURL: chart.repo,
                  chart: c.helm.chart,
                  targetRevision: chart.version,
                  helm: { releaseName: c.helm.releaseName ?? c.name, valuesObject: c.helm.values },
                },
              }
            : {}),
        }),
      );
    }
  }
}

interface AppSpec {
  wave: number;
  namespace: string;
  path: string;
  syncOptions?: readonly string[];
  helm?: Record<string, unknown>;
  finalizer?: boolean;
  prune?: boolean;
}

function application(ctx: PlatformContext, name: string, s: AppSpec): K8sObject {
  const git = { repoURL: ctx.gitRepoURL, targetRevision: ctx.config.git.branch, path: s.path };
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: {
      name,
      namespace: ARGOCD_NAMESPACE,
      annotations: { "argocd.argoproj.io/sync-wave": String(s.wave) },
      ...(s.finalizer ? { finalizers: ["resources-finalizer.argocd.argoproj.io"] } : {}),
    },
    spec: {
      project: ctx.config.name,
      ...(s.helm ? { sources: [s.helm, git] } : { source: git }),
      destination: { server: IN_CLUSTER, namespace: s.namespace },
      syncPolicy: {
        automated: { prune: true, selfHeal: true },
        syncOptions: ["CreateNamespace=false", "PruneLast=true", ...(s.syncOptions ?? [])],
        retry: RETRY,
      },
    },
  };
}
