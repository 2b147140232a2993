import { allContainers } from "../lib/pods.ts";
import { rec, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

/** A value that sets a quantity: `cpu: null` or `memory: ""` sets nothing, the API server drops it. */
function isQuantity(v: unknown): boolean {
  return (typeof v === "number" && Number.isFinite(v)) || (typeof v === "string" && v.trim() !== "");
}

export const resources: Rule = {
  id: "resources",
  title: "CPU and memory requests, and a memory limit",
  severity: "error",
  why: "On one node the scheduler and the OOM killer decide by requests and limits: without requests a pod can starve the control plane, without a memory limit one leak takes the node down.",
  fix: "Set `resources.requests.cpu`, `resources.requests.memory` and `resources.limits.memory` on every container (a CPU limit is optional: it only throttles).",
  check(ctx) {
    const out: Violation[] = [];
    // Ephemeral (debug) containers may not set resources at all, so they are left out.
    for (const c of allContainers(ctx.objects, ["initContainers", "containers"])) {
      const res = rec(c.container.resources);
      const requests = rec(res.requests);
      const limits = rec(res.limits);
      const missing: string[] = [];
      // The API server copies a limit into a missing request, so a limit alone is a request too.
      if (!isQuantity(requests.cpu) && !isQuantity(limits.cpu)) missing.push("requests.cpu");
      if (!isQuantity(requests.memory) && !isQuantity(limits.memory)) missing.push("requests.memory");
      if (!isQuantity(limits.memory)) missing.push("limits.memory");
      if (missing.length) out.push(violation(this, c.pod.owner, `${c.path}/resources`, `container '${c.name}' has no ${missing.join(", ")} (null and empty values set nothing)`));
    }
    return out;
  },
};
