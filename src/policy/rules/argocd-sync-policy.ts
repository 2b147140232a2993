import { appSpecs } from "../lib/argocd.ts";
import { rec, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

export const argocdSyncPolicy: Rule = {
  id: "argocd-sync-policy",
  title: "ArgoCD Applications sync automatically with selfHeal and prune",
  severity: "error",
  why: "Everything is declared in Git: without automated sync a commit does nothing, without selfHeal a manual change survives, and without prune a deleted object lingers.",
  fix: "Set `spec.syncPolicy.automated: { selfHeal: true, prune: true }` on the Application (or the ApplicationSet template).",
  check(ctx) {
    const out: Violation[] = [];
    for (const app of appSpecs(ctx.objects)) {
      const at = `${app.path}/syncPolicy/automated`;
      const automated = rec(app.spec.syncPolicy).automated;
      if (automated === undefined || automated === null) {
        out.push(violation(this, app.owner, at, "does not sync automatically (no syncPolicy.automated)"));
        continue;
      }
      const a = rec(automated);
      if (a.enabled === false) out.push(violation(this, app.owner, `${at}/enabled`, "automated sync is switched off (enabled: false)"));
      if (a.selfHeal !== true) out.push(violation(this, app.owner, `${at}/selfHeal`, "automated sync does not selfHeal, so manual changes in the cluster survive"));
      if (a.prune !== true) out.push(violation(this, app.owner, `${at}/prune`, "automated sync does not prune, so objects deleted from Git linger"));
    }
    return out;
  },
};
