import { deprecationFor } from "../lib/deprecations.ts";
import { violation } from "../lib/util.ts";
import { atLeast } from "../lib/version.ts";
import type { Rule, Violation } from "../types.ts";

export const removedApi: Rule = {
  id: "removed-api",
  title: "No API versions removed in the target Kubernetes version",
  severity: "error",
  why: "The API server no longer serves a removed apiVersion: the object cannot be applied at all, and ArgoCD's sync fails for the whole Application.",
  fix: "Move the object to the replacement apiVersion named in the message (and adapt the fields that changed with it).",
  check(ctx) {
    const out: Violation[] = [];
    for (const lo of ctx.objects) {
      const d = deprecationFor(lo.object.apiVersion, lo.object.kind);
      if (d?.removedIn && atLeast(ctx.kubernetesVersion, d.removedIn))
        out.push(violation(this, lo, "/apiVersion", `${lo.object.apiVersion} ${lo.object.kind} was removed in Kubernetes ${d.removedIn}; use ${d.replacement}`));
    }
    return out;
  },
};
