import { allPodSpecs } from "../lib/pods.ts";
import { arr, namespaceOf, ofKind, rec, str, violation } from "../lib/util.ts";
import type { PolicyContext, Rule, Violation } from "../types.ts";

export const serviceAccountToken: Rule = {
  id: "service-account-token",
  title: "No API token mounted unless the pod uses the API",
  severity: "warning",
  why: "Every pod gets a Kubernetes API token by default; a process that never talks to the API only hands that token to whoever breaks in.",
  fix: "Set `automountServiceAccountToken: false` on the pod (or its ServiceAccount). Pods whose ServiceAccount is bound to a Role, or that set `automountServiceAccountToken: true` on purpose, are fine.",
  check(ctx) {
    const bound = boundServiceAccounts(ctx);
    const accounts = new Map(ofKind(ctx.objects, "ServiceAccount").map((o) => [key(namespaceOf(o.object), o.object.metadata.name), rec(o.object)]));
    const out: Violation[] = [];
    for (const pod of allPodSpecs(ctx.objects)) {
      // `false` is the goal; an explicit `true` is a deliberate statement that the pod needs the token.
      if (typeof pod.spec.automountServiceAccountToken === "boolean") continue;
      const ns = namespaceOf(pod.owner.object);
      const sa = str(pod.spec.serviceAccountName) ?? str(pod.spec.serviceAccount) ?? "default";
      const k = key(ns, sa);
      if (accounts.get(k)?.automountServiceAccountToken === false) continue;
      if (bound.has(k)) continue;
      out.push(violation(this, pod.owner, `${pod.path}/automountServiceAccountToken`, `pod mounts an API token for ServiceAccount '${sa}', which no (Cluster)RoleBinding in this input grants anything`));
    }
    return out;
  },
};

function key(ns: string | undefined, name: string): string {
  return `${ns ?? ""}/${name}`;
}

/** ServiceAccounts that are the subject of some binding: they have a reason to hold a token. */
function boundServiceAccounts(ctx: PolicyContext): Set<string> {
  const out = new Set<string>();
  for (const b of ofKind(ctx.objects, "RoleBinding", "ClusterRoleBinding")) {
    for (const s of arr(rec(b.object).subjects).map(rec)) {
      if (s.kind !== "ServiceAccount" || typeof s.name !== "string") continue;
      out.add(key(str(s.namespace) ?? namespaceOf(b.object), s.name));
    }
  }
  return out;
}
