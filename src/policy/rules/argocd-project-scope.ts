import { appSpecs } from "../lib/argocd.ts";
import { arr, ofKind, rec, str, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

export const argocdProjectScope: Rule = {
  id: "argocd-project-scope",
  title: "ArgoCD projects name their destinations and cluster-scoped kinds",
  severity: "error",
  why: "An AppProject is the fence around what Git may change: a `*` destination lets its Applications deploy to any cluster or namespace, a `*` in clusterResourceWhitelist lets them create any cluster-scoped object (ClusterRoleBindings included), and Argo CD's built-in `default` project allows everything.",
  fix: "List each destination namespace (and the cluster) and each cluster-scoped group and kind the project's Applications deploy; give every Application an explicit project other than `default`.",
  check(ctx) {
    const out: Violation[] = [];
    const projects = ofKind(ctx.objects, "AppProject").filter((p) => p.object.apiVersion.startsWith("argoproj.io/"));
    for (const proj of projects) {
      const spec = rec(proj.object.spec);
      arr(spec.destinations).forEach((d, i) => {
        const dest = rec(d);
        for (const field of ["server", "name"] as const)
          if (str(dest[field]) === "*") out.push(violation(this, proj, `/spec/destinations/${i}/${field}`, `destination ${i} allows every cluster (${field}: '*')`));
        if (str(dest.namespace) === "*") out.push(violation(this, proj, `/spec/destinations/${i}/namespace`, `destination ${i} allows every namespace (namespace: '*')`));
      });
      arr(spec.clusterResourceWhitelist).forEach((e, i) => {
        const entry = rec(e);
        const group = str(entry.group);
        const kind = str(entry.kind);
        if (kind === "*") out.push(violation(this, proj, `/spec/clusterResourceWhitelist/${i}/kind`, `allows every cluster-scoped kind ${group === "*" ? "of every API group" : `of API group '${group ?? ""}'`}`));
        else if (group === "*") out.push(violation(this, proj, `/spec/clusterResourceWhitelist/${i}/group`, `allows cluster-scoped kind '${kind ?? ""}' of every API group`));
      });
    }
    // A `default` project defined here is fenced like any other; Argo CD's built-in one is not.
    const ownDefault = projects.some((p) => p.object.metadata.name === "default");
    for (const app of appSpecs(ctx.objects)) {
      const project = app.spec.project;
      if (project === undefined || project === null || project === "")
        out.push(violation(this, app.owner, `${app.path}/project`, "names no project, so it falls into Argo CD's default project, which allows everything"));
      else if (project === "default" && !ownDefault)
        out.push(violation(this, app.owner, `${app.path}/project`, "uses Argo CD's default project, which allows every source, destination and kind"));
    }
    return out;
  },
};
