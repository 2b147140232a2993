import { allPodSpecs, containersOf, isSidecar, LONG_RUNNING_KINDS, type ContainerAt } from "../lib/pods.ts";
import { arr, rec, str, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

const PROBES = ["livenessProbe", "readinessProbe", "startupProbe"] as const;
const REQUIRED = ["livenessProbe", "readinessProbe"] as const;

export const probes: Rule = {
  id: "probes",
  title: "Liveness and readiness probes that can work",
  severity: "error",
  why: "Without a readiness probe traffic reaches pods that are not ready; without a liveness probe a hung process is never restarted. A probe on a port the container does not declare, or declares for UDP only, never succeeds. A startup probe alone does not count: once it has passed nothing watches the container (Polaris and kube-linter judge it the same way).",
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
        for (const probe of PROBES) {
          const value = c.container[probe];
          // `livenessProbe:` with nothing after it is null: no probe at all.
          if (value === undefined || value === null) {
            if ((REQUIRED as readonly string[]).includes(probe)) out.push(violation(this, pod.owner, `${c.path}/${probe}`, `container '${c.name}' has no ${probe}`));
            continue;
          }
          const handler = handlerOf(value);
          if (!handler) {
            // The API server refuses a probe without an action, so `{}` is no probe either.
            out.push(violation(this, pod.owner, `${c.path}/${probe}`, `${probe} of container '${c.name}' has no action (exec, httpGet, tcpSocket or grpc)`));
            continue;
          }
          if (handler === "exec") {
            if (!arr(rec(rec(value).exec).command).length)
              out.push(violation(this, pod.owner, `${c.path}/${probe}/exec/command`, `${probe} of container '${c.name}' runs no command`));
            continue;
          }
          out.push(...portProblems(this, c, probe, handler));
        }
      }
    }
    return out;
  },
};

const HANDLERS = ["exec", "httpGet", "tcpSocket", "grpc"] as const;

/** The probe's action; a null one (`httpGet:` left empty) is no action. */
function handlerOf(probe: unknown): (typeof HANDLERS)[number] | undefined {
  const p = rec(probe);
  return HANDLERS.find((h) => p[h] !== undefined && p[h] !== null);
}

function portProblems(rule: Rule, c: ContainerAt, probe: (typeof PROBES)[number], handler: Exclude<(typeof HANDLERS)[number], "exec">): Violation[] {
  const port = rec(rec(c.container[probe])[handler]).port;
  const declared = arr(c.container.ports).map(rec);
  const at = `${c.path}/${probe}/${handler}/port`;
  // HTTP, TCP and gRPC probes all connect over TCP: a port declared for UDP only never answers them.
  const udpOnly = (ports: Record<string, unknown>[]) => ports.length > 0 && ports.every((d) => d.protocol === "UDP");
  const udp = (what: string) => [violation(rule, c.pod.owner, at, `${probe} of container '${c.name}' probes ${what}, which the container declares for UDP only; a ${handler} probe connects over TCP and never succeeds`)];
  if (typeof port === "string" && !/^\d+$/.test(port)) {
    const named = declared.filter((d) => str(d.name) === port);
    if (named.length === 0) return [violation(rule, c.pod.owner, at, `${probe} of container '${c.name}' uses port name '${port}', which the container does not declare`)];
    return udpOnly(named) ? udp(`port '${port}'`) : [];
  }
  const n = Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) return [violation(rule, c.pod.owner, at, `${probe} of container '${c.name}' has no valid port`)];
  // Containers may listen without declaring ports; only a declared list can contradict the probe.
  const numbered = declared.filter((d) => d.containerPort === n);
  if (declared.length && numbered.length === 0)
    return [violation(rule, c.pod.owner, at, `${probe} of container '${c.name}' probes port ${n}, which is not among its declared ports`)];
  return udpOnly(numbered) ? udp(`port ${n}`) : [];
}
