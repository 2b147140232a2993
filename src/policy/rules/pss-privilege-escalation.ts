import { allContainers } from "../lib/pods.ts";
import { rec, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

export const pssPrivilegeEscalation: Rule = {
  id: "pss-privilege-escalation",
  title: "allowPrivilegeEscalation: false",
  severity: "error",
  why: "Without no_new_privs a process can gain privileges through setuid binaries or file capabilities, undoing the capability drop and the non-root user.",
  fix: "Set `securityContext.allowPrivilegeEscalation: false` on every container (it is not inherited from the pod).",
  check(ctx) {
    const out: Violation[] = [];
    for (const c of allContainers(ctx.objects)) {
      const value = rec(c.container.securityContext).allowPrivilegeEscalation;
      if (value !== false) {
        const why = value === undefined ? "does not set allowPrivilegeEscalation: false" : `sets allowPrivilegeEscalation: ${String(value)}`;
        out.push(violation(this, c.pod.owner, `${c.path}/securityContext/allowPrivilegeEscalation`, `container '${c.name}' ${why}`));
      }
    }
    return out;
  },
};
