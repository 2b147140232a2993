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
  fix: "Drop hostNetwork/hostPID/hostIPC and hostPort; expose the pod through a Service and an Ingress. Node agents that must see the host go on the host-access allowlist with a reason and the exact ports they bind.",
  check(ctx) {
    const out: Violation[] = [];
    for (const pod of allPodSpecs(ctx.objects)) {
      const allowances = hostAllowances(ctx, pod.owner);
      const allowed = new Set(allowances.flatMap((a) => a.namespaces ?? []));
      const ports = new Set(allowances.flatMap((a) => a.ports ?? []));
      for (const [field, ns] of FIELDS) {
        if (pod.spec[field] === true && !allowed.has(ns))
          out.push(violation(this, pod.owner, `${pod.path}/${field}`, `pod shares the host's ${ns} namespace (${field}: true)`));
      }
      // On the host network every container port is a host port (the API server sets hostPort to it).
      // Without an allowance the hostNetwork finding above already covers those.
      const hostNetwork = pod.spec.hostNetwork === true && allowed.has("network");
      for (const c of containersOf(pod)) {
        arr(c.container.ports).forEach((p, i) => {
          const port = rec(p);
          const explicit = typeof port.hostPort === "number" && port.hostPort !== 0 ? port.hostPort : undefined;
          const bound = explicit ?? (hostNetwork && typeof port.containerPort === "number" ? port.containerPort : undefined);
          if (bound === undefined || ports.has(bound)) return;
          const field = explicit !== undefined ? "hostPort" : "containerPort";
          const how = explicit !== undefined ? `binds host port ${bound}` : `listens on the node's port ${bound} (host network)`;
          const detail = ports.size ? ` (allowed here: ${[...ports].join(", ")})` : "";
          out.push(violation(this, pod.owner, `${c.path}/ports/${i}/${field}`, `container '${c.name}' ${how}${detail}`));
        });
      }
    }
    return out;
  },
};
