import { arr, ofKind, rec, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

/** What a locked `default` project must leave empty, and why each matters. */
const MUST_BE_EMPTY = [
  ["sourceRepos", "lets an Application in it render any repository"],
  ["sourceNamespaces", "lets Applications from other namespaces use it"],
  ["destinations", "lets an Application in it deploy somewhere"],
  ["clusterResourceWhitelist", "lets an Application in it create cluster-scoped objects"],
] as const;

export const argocdDefaultProject: Rule = {
  id: "argocd-default-project",
  title: "Argo CD's built-in default project is locked",
  severity: "error",
  why: "Argo CD creates a `default` AppProject that allows every source, destination and kind, and keeps it: any Application that names it (or no project) may render any repository. With kustomize exec plugins on and the age key mounted in the repo-server, rendering an arbitrary repository means running its code next to the key.",
  fix: "Declare the `default` AppProject with empty sourceRepos, sourceNamespaces, destinations and clusterResourceWhitelist and a namespaceResourceBlacklist of group `*`, kind `*`; give every Application its own project.",
  check(ctx) {
    const out: Violation[] = [];
    const projects = ofKind(ctx.objects, "AppProject").filter((p) => p.object.apiVersion.startsWith("argoproj.io/"));
    const defaults = projects.filter((p) => p.object.metadata.name === "default");
    for (const proj of defaults) {
      const spec = rec(proj.object.spec);
      for (const [field, why] of MUST_BE_EMPTY)
        if (arr(spec[field]).length > 0) out.push(violation(this, proj, `/spec/${field}`, `the default project lists ${field}, which ${why}`));
      const blocksAll = arr(spec.namespaceResourceBlacklist).some((e) => rec(e).group === "*" && rec(e).kind === "*");
      if (!blocksAll) out.push(violation(this, proj, "/spec/namespaceResourceBlacklist", "the default project does not deny every namespaced kind (group '*', kind '*')"));
    }
    // A tree that manages Argo CD projects but leaves the built-in one as Argo CD made it.
    if (defaults.length === 0 && projects.length > 0) {
      const first = [...projects].sort((a, b) => a.object.metadata.name.localeCompare(b.object.metadata.name))[0]!;
      out.push(violation(this, first, "/metadata/name", "the AppProjects here leave Argo CD's built-in `default` project open (it allows everything); declare it locked next to them"));
    }
    return out;
  },
};
