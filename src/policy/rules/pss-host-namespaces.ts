import { allPodSpecs, containersOf } from "../lib/pods.ts";
import { hostAllowances } from "../lib/security.ts";
import { arr, rec, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

const FIELDS = [
  ["hostNetwork", "network"],
  ["hostPID", "pid"],
  ["hostIPC", "ipc"],
] as const;

export const pssHostNamespaces: Rule = {
  id: "pss-host-namespaces",
  title: "No host network, PID or IPC namespace, no hostPorts",
  severity: "error",
  why: "Sharing the host's network, process or IPC namespace lets a pod see and reach everything on the node, and hostPorts bypass the tunnel and NetworkPolicies.",
  fix: "Drop hostNetwork/hostPID/hostIPC and hostPort; expose the pod through a Service and an Ingress. Node agents that must see the host go on the host-access allowlist with a reason.",
  check(ctx) {
    const out: Violation[] = [];
    for (const pod of allPodSpecs(ctx.objects)) {
      const allowed = new Set(hostAllowances(ctx, pod.owner).flatMap((a) => a.namespaces ?? []));
      for (const [field, ns] of FIELDS) {
        if (pod.spec[field] === true && !allowed.has(ns))
          out.push(violation(this, pod.owner, `${pod.path}/${field}`, `pod shares the host's ${ns} namespace (${field}: true)`));
      }
      if (allowed.has("network")) continue;
      for (const c of containersOf(pod)) {
        arr(c.container.ports).forEach((p, i) => {
          const hostPort = rec(p).hostPort;
          if (typeof hostPort === "number" && hostPort !== 0)
            out.push(violation(this, pod.owner, `${c.path}/ports/${i}/hostPort`, `container '${c.name}' binds host port ${hostPort}`));
        });
      }
    }
    return out;
  },
};
