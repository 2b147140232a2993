import { podSpecs, WORKLOAD_KINDS } from "../lib/pods.ts";
import { namespaceOf, ofKind, rec, violation } from "../lib/util.ts";
import { selectorMatches } from "../lib/selectors.ts";
import type { Rule, Violation } from "../types.ts";

export const networkPolicyCoverage: Rule = {
  id: "network-policy-coverage",
  title: "Every workload is covered by a NetworkPolicy",
  severity: "error",
  why: "Without a NetworkPolicy selecting it, a pod accepts connections from every other pod in the cluster; one compromised app can reach all the others.",
  fix: "Add a NetworkPolicy in the workload's namespace whose podSelector matches its pods (a default-deny with `podSelector: {}` plus the allowed flows is the usual shape).",
  needsModel: true,
  check(ctx) {
    const policies = ofKind(ctx.objects, "NetworkPolicy");
    const out: Violation[] = [];
    for (const lo of ofKind(ctx.objects, ...WORKLOAD_KINDS)) {
      const pod = podSpecs(lo)[0];
      if (!pod) continue;
      const ns = namespaceOf(lo.object);
      const covered = policies.some((p) => namespaceOf(p.object) === ns && selectorMatches(rec(p.object.spec).podSelector, pod.labels));
      if (!covered) out.push(violation(this, lo, "/spec/template/metadata/labels", `no NetworkPolicy in namespace '${ns ?? "(none)"}' selects the pods of this ${lo.object.kind}`));
    }
    return out;
  },
};
