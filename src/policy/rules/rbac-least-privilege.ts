import { arr, ofKind, rec, refMatches, str, subjectOf, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

const WILDCARD_FIELDS = ["apiGroups", "resources", "verbs"] as const;

/** Verbs that hand out rights beyond the role's own: the API server's escalation checks stop applying. */
const ESCALATING_VERBS: Readonly<Record<string, string>> = {
  escalate: "lets its holder write Roles with rights it does not have",
  bind: "lets its holder bind any Role, rights it does not have included",
  impersonate: "lets its holder act as another user, group or ServiceAccount",
};

export const rbacLeastPrivilege: Rule = {
  id: "rbac-least-privilege",
  title: "No wildcard or escalating RBAC, no cluster-admin bindings outside the allowlist",
  severity: "error",
  why: "A `*` in a Role grants every present and future resource or verb; `escalate`, `bind` and `impersonate` let a subject take rights it was never given; a cluster-admin binding makes its subject the cluster's owner. Only a GitOps controller has a reason for that.",
  fix: "List the exact apiGroups, resources and verbs the component uses; bind a narrow ClusterRole instead of cluster-admin. A controller that truly needs it goes on the RBAC allowlist with a reason.",
  check(ctx) {
    const allowed = (ref: string) => ctx.rbacAllowlist.some((a) => refMatches(a.object, ref));
    const out: Violation[] = [];
    for (const role of ofKind(ctx.objects, "Role", "ClusterRole")) {
      if (allowed(subjectOf(role.object))) continue;
      arr(rec(role.object).rules).forEach((r, i) => {
        const rule = rec(r);
        for (const field of WILDCARD_FIELDS) {
          if (arr(rule[field]).includes("*"))
            out.push(violation(this, role, `/rules/${i}/${field}`, `rule ${i} grants '*' ${field}`));
        }
        arr(rule.verbs).forEach((verb, j) => {
          const what = typeof verb === "string" && Object.hasOwn(ESCALATING_VERBS, verb) ? ESCALATING_VERBS[verb] : undefined;
          if (what) out.push(violation(this, role, `/rules/${i}/verbs/${j}`, `rule ${i} grants '${String(verb)}', which ${what}`));
        });
        if (arr(rule.nonResourceURLs).includes("*")) out.push(violation(this, role, `/rules/${i}/nonResourceURLs`, `rule ${i} grants every non-resource URL`));
      });
    }
    for (const binding of ofKind(ctx.objects, "RoleBinding", "ClusterRoleBinding")) {
      if (allowed(subjectOf(binding.object))) continue;
      const roleRef = rec(rec(binding.object).roleRef);
      if (roleRef.kind === "ClusterRole" && roleRef.name === "cluster-admin")
        out.push(violation(this, binding, "/roleRef/name", "binds cluster-admin"));
      arr(rec(binding.object).subjects).forEach((s, i) => {
        if (rec(s).kind === "Group" && str(rec(s).name) === "system:masters")
          out.push(violation(this, binding, `/subjects/${i}`, "binds the system:masters group, which bypasses all authorization"));
      });
    }
    return out;
  },
};
