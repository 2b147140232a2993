import { wholeNamespacesSkipReason } from "../lib/namespaces.ts";
import { podSpecs, WORKLOAD_KINDS } from "../lib/pods.ts";
import { selectorMatches } from "../lib/selectors.ts";
import { arr, namespaceOf, ofKind, rec, str, violation } from "../lib/util.ts";
import type { LocatedObject } from "../../model/k8s.ts";
import type { Rule, Violation } from "../types.ts";

/** The directions a NetworkPolicy isolates: `policyTypes`, or Ingress (plus Egress with egress rules) when absent. */
function directions(policy: LocatedObject): Set<"Ingress" | "Egress"> {
  const spec = rec(policy.object.spec);
  const types = arr(spec.policyTypes).map(str);
  if (types.length) return new Set(types.filter((t): t is "Ingress" | "Egress" => t === "Ingress" || t === "Egress"));
  return new Set(spec.egress !== undefined ? ["Ingress", "Egress"] : ["Ingress"]);
}

export const networkPolicyCoverage: Rule = {
  id: "network-policy-coverage",
  title: "Every workload is isolated by NetworkPolicies, both ways",
  severity: "error",
  why: "Without a NetworkPolicy selecting it for ingress, a pod accepts connections from every other pod in the cluster; without one for egress, a compromised pod reaches everything, the API server and the internet included.",
  fix: "Add a NetworkPolicy in the workload's namespace whose podSelector matches its pods, for Ingress and for Egress (a default-deny with `podSelector: {}` and `policyTypes: [Ingress, Egress]` plus the allowed flows is the usual shape).",
  // A policy defined outside the input could cover the workload: judged only on whole namespaces.
  skip: wholeNamespacesSkipReason,
  check(ctx) {
    // A policy selects pods of its own namespace only: each workload looks at its namespace's policies (in
    // input order), not at every policy, which made the rule grow with workloads × policies.
    const policies = new Map<string | undefined, LocatedObject[]>();
    for (const p of ofKind(ctx.objects, "NetworkPolicy")) {
      const ns = namespaceOf(p.object);
      const list = policies.get(ns);
      if (list) list.push(p);
      else policies.set(ns, [p]);
    }
    const out: Violation[] = [];
    for (const lo of ofKind(ctx.objects, ...WORKLOAD_KINDS, "Pod")) {
      const pod = podSpecs(lo)[0];
      if (!pod) continue;
      const ns = namespaceOf(lo.object);
      const isolated = new Set<string>();
      for (const p of policies.get(ns) ?? []) {
        if (selectorMatches(rec(p.object.spec).podSelector, pod.labels)) for (const d of directions(p)) isolated.add(d);
      }
      const what = lo.object.kind === "Pod" ? "this Pod" : `the pods of this ${lo.object.kind}`;
      const where = `in namespace '${ns ?? "(none)"}'`;
      if (isolated.size === 0) out.push(violation(this, lo, pod.metadataPath + "/labels", `no NetworkPolicy ${where} selects ${what}`));
      else
        for (const d of ["Ingress", "Egress"] as const)
          if (!isolated.has(d)) out.push(violation(this, lo, pod.metadataPath + "/labels", `no NetworkPolicy ${where} isolates ${what} for ${d} (the policies selecting it list only ${[...isolated].join(", ")} in policyTypes)`));
    }
    return out;
  },
};
