import { allContainers, allPodSpecs } from "../lib/pods.ts";
import { rec, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

export const pssPrivileged: Rule = {
  id: "pss-privileged",
  title: "No privileged containers",
  severity: "error",
  why: "A privileged container (or a Windows host process, or an unmasked /proc) has the node's full power: one compromise is a compromised host. Pod Security Standards forbid it even at the baseline level.",
  fix: "Remove `privileged: true`, `windowsOptions.hostProcess` and `procMount: Unmasked`; grant the one capability the process needs instead.",
  check(ctx) {
    const out: Violation[] = [];
    for (const pod of allPodSpecs(ctx.objects)) {
      if (rec(rec(pod.spec.securityContext).windowsOptions).hostProcess === true)
        out.push(violation(this, pod.owner, `${pod.path}/securityContext/windowsOptions/hostProcess`, "pod runs as a Windows host process"));
    }
    for (const c of allContainers(ctx.objects)) {
      const sc = rec(c.container.securityContext);
      if (sc.privileged === true) out.push(violation(this, c.pod.owner, `${c.path}/securityContext/privileged`, `container '${c.name}' is privileged`));
      if (rec(sc.windowsOptions).hostProcess === true)
        out.push(violation(this, c.pod.owner, `${c.path}/securityContext/windowsOptions/hostProcess`, `container '${c.name}' runs as a Windows host process`));
      if (sc.procMount !== undefined && sc.procMount !== "Default")
        out.push(violation(this, c.pod.owner, `${c.path}/securityContext/procMount`, `container '${c.name}' sets procMount '${String(sc.procMount)}'; only 'Default' is allowed`));
    }
    return out;
  },
};
