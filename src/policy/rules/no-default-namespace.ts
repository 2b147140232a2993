import { isClusterScoped } from "../lib/kinds.ts";
import { namespaceOf, ofKind, rec, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

export const noDefaultNamespace: Rule = {
  id: "no-default-namespace",
  title: "Nothing in the default namespace",
  severity: "error",
  why: "Name = app = namespace: `default` belongs to nobody, has no NetworkPolicy or quota of its own, and mixes unrelated workloads.",
  fix: "Put the object in its app's namespace; for an ArgoCD Application set `spec.destination.namespace` to that namespace.",
  check(ctx) {
    const out: Violation[] = [];
    for (const lo of ctx.objects) {
      if (!isClusterScoped(lo.object.kind) && namespaceOf(lo.object) === "default")
        out.push(violation(this, lo, "/metadata/namespace", "object is in the default namespace"));
    }
    for (const app of ofKind(ctx.objects, "Application")) {
      if (rec(rec(app.object.spec).destination).namespace === "default")
        out.push(violation(this, app, "/spec/destination/namespace", "Application deploys into the default namespace"));
    }
    for (const set of ofKind(ctx.objects, "ApplicationSet")) {
      const dest = rec(rec(rec(rec(set.object.spec).template).spec).destination);
      if (dest.namespace === "default") out.push(violation(this, set, "/spec/template/spec/destination/namespace", "ApplicationSet deploys into the default namespace"));
    }
    return out;
  },
};
