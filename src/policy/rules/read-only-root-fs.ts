import { allContainers } from "../lib/pods.ts";
import { rec, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

export const readOnlyRootFs: Rule = {
  id: "read-only-root-fs",
  title: "Read-only root filesystem",
  severity: "warning",
  why: "A writable root filesystem lets an intruder drop tools and persist changes inside the container, and hides state that should live in a volume.",
  fix: "Set `securityContext.readOnlyRootFilesystem: true` and mount an emptyDir where the process needs scratch space (e.g. /tmp).",
  check(ctx) {
    const out: Violation[] = [];
    for (const c of allContainers(ctx.objects, ["initContainers", "containers"])) {
      if (rec(c.container.securityContext).readOnlyRootFilesystem !== true)
        out.push(violation(this, c.pod.owner, `${c.path}/securityContext/readOnlyRootFilesystem`, `container '${c.name}' has a writable root filesystem`));
    }
    return out;
  },
};
