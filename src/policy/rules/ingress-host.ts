import { arr, ofKind, rec, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

export const ingressHost: Rule = {
  id: "ingress-host",
  title: "Every Ingress rule names its host",
  severity: "error",
  why: "A rule without a host (or with an empty one) answers for every hostname that reaches the ingress controller: whatever name points at the tunnel lands on that app, and no certificate can cover it.",
  fix: "Set `host` on every rule of the Ingress to the app's own name under the homelab's domain.",
  check(ctx) {
    const out: Violation[] = [];
    for (const ing of ofKind(ctx.objects, "Ingress")) {
      arr(rec(ing.object.spec).rules).forEach((r, i) => {
        const host = rec(r).host;
        if (typeof host !== "string" || host.trim() === "") out.push(violation(this, ing, `/spec/rules/${i}/host`, `rule ${i} has no host, so it answers for every hostname`));
      });
    }
    return out;
  },
};
