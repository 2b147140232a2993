import { normalizeRepoURL } from "../rules/argocd-sources.ts";
import type { PolicyContext } from "../types.ts";
import { appSpecs, sourcesOf } from "./argocd.ts";
import { rec, str } from "./util.ts";

/**
 * Rules that look for what an object refers to (a Service's pods, an Ingress's Service) can only
 * call a reference broken when the input holds the whole namespace: a chart's output or one file
 * of an estate may well point at objects defined elsewhere.
 *
 * - `homelab check --whole-namespaces <paths>` says the input holds every namespace it touches.
 * - In the repository mode (with the model) a namespace is whole when the rendered tree is all that
 *   is deployed into it: every Application with that destination installs from our repository
 *   only. An Application that installs a Helm chart brings objects the tree does not show.
 */
export interface NamespaceScope {
  /** Whether references inside namespace `ns` (`undefined`: no namespace given) can be judged. */
  whole(ns: string | undefined): boolean;
}

/** Why reference rules cannot run at all on this input, or undefined when some namespace is whole. */
export function wholeNamespacesSkipReason(ctx: PolicyContext): string | undefined {
  if (ctx.wholeNamespaces || ctx.model) return undefined;
  return "not judged: the input may not hold whole namespaces, so what it refers to may be defined elsewhere (pass --whole-namespaces when it does)";
}

export function namespaceScope(ctx: PolicyContext): NamespaceScope {
  if (ctx.wholeNamespaces) return { whole: () => true };
  if (!ctx.model) return { whole: () => false };
  const ours = normalizeRepoURL(ctx.model.gitRepoURL);
  const fromCharts = new Set<string>();
  const fromUs = new Set<string>();
  for (const app of appSpecs(ctx.objects)) {
    const ns = str(rec(app.spec.destination).namespace);
    if (!ns) continue;
    const foreign = sourcesOf(app).some(({ source }) => normalizeRepoURL(str(source.repoURL) ?? "") !== ours || str(source.chart) !== undefined);
    (foreign ? fromCharts : fromUs).add(ns);
  }
  return { whole: (ns) => ns !== undefined && fromUs.has(ns) && !fromCharts.has(ns) };
}
