import { allPodSpecs } from "../lib/pods.ts";
import { arr, namespaceOf, ofKind, rec, refMatches, str, subjectOf, violation } from "../lib/util.ts";
import type { PolicyContext, Rule, Violation } from "../types.ts";

export const serviceAccountToken: Rule = {
  id: "service-account-token",
  title: "No API token mounted unless the pod uses the API",
  severity: "warning",
  why: "Every pod gets a Kubernetes API token by default; a process that never talks to the API only hands that token to whoever breaks in. Writing `automountServiceAccountToken: true` does not make the pod use the API: a token nothing is allowed to do anything with is still a credential to steal, and the line is usually copied from elsewhere.",
  fix: "Set `automountServiceAccountToken: false` on the pod (or its ServiceAccount). A pod that uses the API runs as a ServiceAccount bound to a Role; one of the homelab's own operators whose binding the input does not show goes on the API-client allowlist with a reason.",
  check(ctx) {
    const bound = boundServiceAccounts(ctx);
    const accounts = new Map(ofKind(ctx.objects, "ServiceAccount").map((o) => [key(namespaceOf(o.object), o.object.metadata.name), rec(o.object)]));
    const allowlist = ctx.apiClientAllowlist ?? [];
    const out: Violation[] = [];
    for (const pod of allPodSpecs(ctx.objects)) {
      const own = pod.spec.automountServiceAccountToken;
      if (own === false) continue;
      const ns = namespaceOf(pod.owner.object);
      const sa = str(pod.spec.serviceAccountName) ?? str(pod.spec.serviceAccount) ?? "default";
      const k = key(ns, sa);
      // The pod's own setting wins over its ServiceAccount's.
      if (own !== true && accounts.get(k)?.automountServiceAccountToken === false) continue;
      if (bound.has(k)) continue;
      const ref = subjectOf(pod.owner.object);
      if (allowlist.some((a) => refMatches(a.object, ref))) continue;
      const why = `ServiceAccount '${sa}' is bound to no Role or ClusterRole in this input, so the pod has no use for the API`;
      out.push(
        violation(this, pod.owner, `${pod.path}/automountServiceAccountToken`, own === true ? `pod asks for an API token (automountServiceAccountToken: true), but ${why}` : `pod mounts an API token by default; ${why}`),
      );
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
