import { allPodSpecs, containersOf } from "../lib/pods.ts";
import { effectiveSecurity, perPodOrContainer } from "../lib/security.ts";
import { rec, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

/** Localhost profiles are allowed too: they are at least as strict as the runtime's default. */
const ALLOWED = new Set(["RuntimeDefault", "Localhost"]);

export const pssSeccomp: Rule = {
  id: "pss-seccomp",
  title: "seccomp profile RuntimeDefault",
  severity: "error",
  why: "Without a seccomp profile every syscall is open to the container, including the ones most kernel exploits rely on.",
  fix: "Set `securityContext.seccompProfile.type: RuntimeDefault` in the pod's securityContext.",
  check(ctx) {
    const out: Violation[] = [];
    for (const pod of allPodSpecs(ctx.objects)) {
      const containers = containersOf(pod);
      const res = perPodOrContainer(pod, containers, "seccompProfile", (v) => ALLOWED.has(String(rec(v).type)));
      if (res?.at === "pod") out.push(violation(this, pod.owner, `${res.path}/type`, describe("pod", rec(pod.spec.securityContext).seccompProfile)));
      else if (res)
        for (const c of res.failing)
          out.push(violation(this, pod.owner, `${c.path}/securityContext/seccompProfile/type`, describe(`container '${c.name}'`, effectiveSecurity(c, "seccompProfile").value)));
    }
    return out;
  },
};

function describe(who: string, profile: unknown): string {
  const type = rec(profile).type;
  return type === undefined ? `${who} has no seccomp profile (want RuntimeDefault)` : `${who} uses seccomp profile '${String(type)}' (want RuntimeDefault)`;
}
