import { deprecationFor } from "../lib/deprecations.ts";
import { violation } from "../lib/util.ts";
import { atLeast } from "../lib/version.ts";
import type { Rule, Violation } from "../types.ts";

export const deprecatedApi: Rule = {
  id: "deprecated-api",
  title: "No deprecated API versions",
  severity: "warning",
  why: "A deprecated apiVersion still works today but will be removed in a later Kubernetes release; moving early keeps the upgrade a non-event.",
  fix: "Move the object to the replacement apiVersion named in the message.",
  check(ctx) {
    const out: Violation[] = [];
    for (const lo of ctx.objects) {
      const d = deprecationFor(lo.object.apiVersion, lo.object.kind);
      if (!d || !atLeast(ctx.kubernetesVersion, d.deprecatedIn)) continue;
      // Removed ones are errors of removed-api; reporting them twice helps nobody.
      if (d.removedIn && atLeast(ctx.kubernetesVersion, d.removedIn)) continue;
      const when = d.removedIn ? `, removed in ${d.removedIn}` : "";
      out.push(violation(this, lo, "/apiVersion", `${lo.object.apiVersion} ${lo.object.kind} is deprecated since Kubernetes ${d.deprecatedIn}${when}; use ${d.replacement}`));
    }
    return out;
  },
};
