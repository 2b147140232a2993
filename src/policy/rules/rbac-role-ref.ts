import { isBuiltInClusterRole, roleRefOf } from "../lib/rbac.ts";
import { namespaceOf, ofKind, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

export const rbacRoleRef: Rule = {
  id: "rbac-role-ref",
  title: "Bindings name a role that exists",
  severity: "error",
  why: "A binding to a Role or ClusterRole that is not there grants nothing today, and whatever later takes that name, from any chart, is granted at once to the binding's subjects. It is usually a typo or a leftover of a removed component.",
  fix: "Point `roleRef` at a Role (in the binding's namespace) or ClusterRole defined with it, or at a built-in ClusterRole (`view`, `edit`, `admin`, `system:…`); delete bindings of removed components.",
  check(ctx) {
    const out: Violation[] = [];
    const clusterRoles = new Set(ofKind(ctx.objects, "ClusterRole").map((r) => r.object.metadata.name));
    const roles = new Set(ofKind(ctx.objects, "Role").map((r) => `${namespaceOf(r.object) ?? ""}/${r.object.metadata.name}`));
    for (const binding of ofKind(ctx.objects, "RoleBinding", "ClusterRoleBinding")) {
      const ref = roleRefOf(binding);
      if (!ref) {
        out.push(violation(this, binding, "/roleRef", "binding has no roleRef kind and name"));
        continue;
      }
      if (ref.kind === "ClusterRole") {
        if (!clusterRoles.has(ref.name) && !isBuiltInClusterRole(ref.name))
          out.push(violation(this, binding, "/roleRef/name", `ClusterRole '${ref.name}' is neither in this input nor a built-in role`));
      } else if (ref.kind === "Role") {
        if (binding.object.kind === "ClusterRoleBinding") out.push(violation(this, binding, "/roleRef/kind", "a ClusterRoleBinding can only bind a ClusterRole"));
        else if (!roles.has(`${namespaceOf(binding.object) ?? ""}/${ref.name}`))
          out.push(violation(this, binding, "/roleRef/name", `Role '${ref.name}' is not defined in namespace '${namespaceOf(binding.object) ?? "(none)"}' in this input`));
      } else out.push(violation(this, binding, "/roleRef/kind", `roleRef kind '${ref.kind}' is neither Role nor ClusterRole`));
    }
    return out;
  },
};
