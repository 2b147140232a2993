import { rbacAllowed, rbacRules, roleRefOf } from "../lib/rbac.ts";
import { arr, ofKind, rec, str, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

/** A grant that is a way to the whole cluster even without a wildcard, and why. */
interface Sensitive {
  readonly group: string;
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly why: string;
}

const WORKLOADS = ["deployments", "statefulsets", "daemonsets", "replicasets"];

const SENSITIVE: readonly Sensitive[] = [
  { group: "", resources: ["pods/exec", "pods/attach"], verbs: ["create", "get"], why: "runs commands in any pod it reaches, with that pod's ServiceAccount token and mounted Secrets" },
  { group: "", resources: ["pods/portforward"], verbs: ["create", "get"], why: "reaches any pod's ports past every NetworkPolicy" },
  { group: "", resources: ["secrets"], verbs: ["get", "list", "watch"], why: "reads every Secret of its scope, ServiceAccount tokens and credentials included" },
  { group: "", resources: ["pods", "replicationcontrollers"], verbs: ["create"], why: "starts pods with any ServiceAccount and mounts any Secret of the namespace" },
  { group: "apps", resources: WORKLOADS, verbs: ["create", "update", "patch"], why: "starts pods with any ServiceAccount and mounts any Secret of the namespace" },
  { group: "batch", resources: ["jobs", "cronjobs"], verbs: ["create", "update", "patch"], why: "starts pods with any ServiceAccount and mounts any Secret of the namespace" },
  { group: "", resources: ["nodes/proxy"], verbs: ["get", "create"], why: "talks to the kubelet API directly, which runs commands in every pod on the node and bypasses audit" },
  { group: "", resources: ["serviceaccounts/token"], verbs: ["create"], why: "mints tokens for any ServiceAccount of its scope and takes over their rights" },
];

/** Subjects that stand for everyone (or every workload): a grant to them is a grant to all. */
const EVERYONE: Readonly<Record<string, string>> = {
  "Group system:authenticated": "every authenticated user and ServiceAccount",
  "Group system:unauthenticated": "anonymous requests",
  "User system:anonymous": "anonymous requests",
  "Group system:serviceaccounts": "every ServiceAccount of every namespace",
};

/** Built-in ClusterRoles that are meant for everyone: binding them to everyone changes nothing. */
const PUBLIC_ROLES = new Set(["system:public-info-viewer", "system:discovery", "system:basic-user"]);

export const rbacSensitiveAccess: Rule = {
  id: "rbac-sensitive-access",
  title: "No explicit RBAC grant that leads to the whole cluster",
  severity: "error",
  why: "Some grants need no wildcard to hand over the cluster: exec, attach or port-forward into pods, reading Secrets, creating pods or workloads (which run as any ServiceAccount of the namespace), the kubelet's nodes/proxy, minting ServiceAccount tokens; and any grant to system:authenticated or system:anonymous is a grant to everyone.",
  fix: "Drop the grant, or narrow it with `resourceNames` to the exact objects the component uses; bind roles to named ServiceAccounts, never to everyone. A controller whose job needs it goes on the RBAC allowlist with a reason.",
  check(ctx) {
    const out: Violation[] = [];
    for (const role of ofKind(ctx.objects, "Role", "ClusterRole")) {
      if (rbacAllowed(ctx, role)) continue;
      for (const r of rbacRules(role)) {
        // A rule limited to named objects is the narrow form this rule asks for.
        if (r.resourceNames.length) continue;
        for (const s of SENSITIVE) {
          if (!r.apiGroups.includes(s.group) && !r.apiGroups.includes("*")) continue;
          const resources = r.resources.filter((x) => s.resources.includes(x));
          const verbs = r.verbs.filter((v) => s.verbs.includes(v));
          // Wildcards are rbac-least-privilege's findings; this rule names the explicit grants.
          if (resources.length && verbs.length)
            out.push(violation(this, role, `/rules/${r.index}`, `rule ${r.index} grants ${verbs.join(", ")} on ${resources.join(", ")}, which ${s.why}`));
        }
      }
    }
    for (const binding of ofKind(ctx.objects, "RoleBinding", "ClusterRoleBinding")) {
      if (rbacAllowed(ctx, binding)) continue;
      const ref = roleRefOf(binding);
      if (ref && ref.kind === "ClusterRole" && PUBLIC_ROLES.has(ref.name)) continue;
      arr(rec(binding.object).subjects).forEach((s, i) => {
        const who = EVERYONE[`${str(rec(s).kind) ?? ""} ${str(rec(s).name) ?? ""}`];
        if (who) out.push(violation(this, binding, `/subjects/${i}`, `binds ${ref ? `${ref.kind} '${ref.name}'` : "its role"} to ${who}`));
      });
    }
    return out;
  },
};
