import { allContainers, allPodSpecs } from "../lib/pods.ts";
import { arr, rec, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

export const runAsRootGroup: Rule = {
  id: "run-as-root-group",
  title: "No root group",
  severity: "error",
  why: "`runAsNonRoot` only looks at the user: a process with group 0 (runAsGroup, fsGroup or a supplemental group) still reads and writes every file the root group may, on volumes and in the image. Pod Security restricted does not catch it.",
  fix: "Set `runAsGroup` and `fsGroup` to a non-zero GID (the image's own group, or 65532 as the homelab's workloads do) and leave 0 out of `supplementalGroups`.",
  check(ctx) {
    const out: Violation[] = [];
    for (const pod of allPodSpecs(ctx.objects)) {
      const sc = rec(pod.spec.securityContext);
      for (const field of ["runAsGroup", "fsGroup"] as const)
        if (sc[field] === 0) out.push(violation(this, pod.owner, `${pod.path}/securityContext/${field}`, `pod sets ${field}: 0, the root group`));
      arr(sc.supplementalGroups).forEach((g, i) => {
        if (g === 0) out.push(violation(this, pod.owner, `${pod.path}/securityContext/supplementalGroups/${i}`, "pod adds the root group (0) to its supplemental groups"));
      });
    }
    for (const c of allContainers(ctx.objects)) {
      if (rec(c.container.securityContext).runAsGroup === 0)
        out.push(violation(this, c.pod.owner, `${c.path}/securityContext/runAsGroup`, `container '${c.name}' sets runAsGroup: 0, the root group`));
    }
    return out;
  },
};
