import type { LocatedObject } from "../../model/k8s.ts";
import type { PolicyContext } from "../types.ts";
import { arr, rec, refMatches, str, subjectOf } from "./util.ts";

/**
 * ClusterRoles every cluster has without any manifest: the user-facing defaults and the
 * `system:` roles the API server bootstraps. A binding to one of them is not dangling.
 */
export const BUILT_IN_CLUSTER_ROLES: ReadonlySet<string> = new Set(["cluster-admin", "admin", "edit", "view"]);

export function isBuiltInClusterRole(name: string): boolean {
  return BUILT_IN_CLUSTER_ROLES.has(name) || name.startsWith("system:");
}

/** Whether an object is on the RBAC allowlist (the homelab's own controllers). */
export function rbacAllowed(ctx: PolicyContext, lo: LocatedObject): boolean {
  const ref = subjectOf(lo.object);
  return ctx.rbacAllowlist.some((a) => refMatches(a.object, ref));
}

/** One rule of a Role or ClusterRole, with the strings of its lists. */
export interface RbacRuleAt {
  readonly role: LocatedObject;
  readonly index: number;
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames: readonly string[];
}

export function rbacRules(role: LocatedObject): RbacRuleAt[] {
  const strings = (v: unknown) => arr(v).filter((x): x is string => typeof x === "string");
  return arr(rec(role.object).rules).map((r, index) => {
    const rule = rec(r);
    return {
      role,
      index,
      apiGroups: strings(rule.apiGroups),
      resources: strings(rule.resources),
      verbs: strings(rule.verbs),
      resourceNames: strings(rule.resourceNames),
    };
  });
}

/** The `roleRef` of a binding, when it names a kind and a name. */
export function roleRefOf(binding: LocatedObject): { kind: string; name: string } | undefined {
  const ref = rec(rec(binding.object).roleRef);
  const kind = str(ref.kind);
  const name = str(ref.name);
  return kind && name ? { kind, name } : undefined;
}
