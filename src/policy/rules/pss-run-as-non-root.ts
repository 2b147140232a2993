import { allPodSpecs, containersOf } from "../lib/pods.ts";
import { perPodOrContainer } from "../lib/security.ts";
import { rec, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

export const pssRunAsNonRoot: Rule = {
  id: "pss-run-as-non-root",
  title: "runAsNonRoot and a non-zero UID",
  severity: "error",
  why: "Root in a container is root on the node's kernel; one escape away from the host. runAsNonRoot makes the kubelet refuse to start an image that would run as UID 0.",
  fix: "Set `securityContext.runAsNonRoot: true` (pod level is enough) and, when the image has no numeric USER, `runAsUser` to a non-zero UID such as 65532.",
  check(ctx) {
    const out: Violation[] = [];
    for (const pod of allPodSpecs(ctx.objects)) {
      const containers = containersOf(pod);
      const res = perPodOrContainer(pod, containers, "runAsNonRoot", (v) => v === true);
      if (res?.at === "pod") out.push(violation(this, pod.owner, res.path, "pod does not set runAsNonRoot: true"));
      else if (res) for (const c of res.failing) out.push(violation(this, pod.owner, `${c.path}/securityContext/runAsNonRoot`, `container '${c.name}' does not run with runAsNonRoot: true`));
      if (rec(pod.spec.securityContext).runAsUser === 0) out.push(violation(this, pod.owner, `${pod.path}/securityContext/runAsUser`, "pod runs as UID 0"));
      for (const c of containers) {
        if (rec(c.container.securityContext).runAsUser === 0)
          out.push(violation(this, pod.owner, `${c.path}/securityContext/runAsUser`, `container '${c.name}' runs as UID 0`));
      }
    }
    return out;
  },
};
