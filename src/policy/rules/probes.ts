import { allPodSpecs, containersOf, isSidecar, LONG_RUNNING_KINDS, type ContainerAt } from "../lib/pods.ts";
import { arr, rec, str, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

const PROBES = ["livenessProbe", "readinessProbe", "startupProbe"] as const;
const REQUIRED = ["livenessProbe", "readinessProbe"] as const;

export const probes: Rule = {
  id: "probes",
  title: "Liveness and readiness probes on ports that exist",
  severity: "error",
  why: "Without a readiness probe traffic reaches pods that are not ready; without a liveness probe a hung process is never restarted. A probe on a port the container does not declare never succeeds.",
  fix: "Add `livenessProbe` and `readinessProbe` to every long-running container, pointing at a port listed in its `ports` (by name or number).",
  check(ctx) {
    const out: Violation[] = [];
    for (const pod of allPodSpecs(ctx.objects)) {
      const kind = pod.owner.object.kind;
      if (!(LONG_RUNNING_KINDS as readonly string[]).includes(kind)) continue;
      // Bare pods that run to completion (Helm test hooks, one-off tasks) are not services.
      if (kind === "Pod" && (pod.spec.restartPolicy === "Never" || pod.spec.restartPolicy === "OnFailure")) continue;
      for (const c of containersOf(pod, ["initContainers", "containers"])) {
        if (c.kind === "initContainers" && !isSidecar(c)) continue;
        for (const probe of REQUIRED) {
          if (c.container[probe] === undefined) out.push(violation(this, pod.owner, `${c.path}/${probe}`, `container '${c.name}' has no ${probe}`));
        }
        for (const probe of PROBES) out.push(...portProblems(this, c, probe));
      }
    }
    return out;
  },
};

function portProblems(rule: Rule, c: ContainerAt, probe: (typeof PROBES)[number]): Violation[] {
  const p = rec(c.container[probe]);
  const handler = (["httpGet", "tcpSocket", "grpc"] as const).find((h) => p[h] !== undefined);
  if (!handler) return [];
  const port = rec(p[handler]).port;
  const declared = arr(c.container.ports).map(rec);
  const at = `${c.path}/${probe}/${handler}/port`;
  if (typeof port === "string" && !/^\d+$/.test(port)) {
    if (declared.some((d) => str(d.name) === port)) return [];
    return [violation(rule, c.pod.owner, at, `${probe} of container '${c.name}' uses port name '${port}', which the container does not declare`)];
  }
  const n = Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) return [violation(rule, c.pod.owner, at, `${probe} of container '${c.name}' has no valid port`)];
  // Containers may listen without declaring ports; only a declared list can contradict the probe.
  if (declared.length && !declared.some((d) => d.containerPort === n))
    return [violation(rule, c.pod.owner, at, `${probe} of container '${c.name}' probes port ${n}, which is not among its declared ports`)];
  return [];
}
