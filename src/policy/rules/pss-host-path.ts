import { allPodSpecs, containersOf } from "../lib/pods.ts";
import { hostAllowances, pathAllowed } from "../lib/security.ts";
import { arr, rec, str, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

export const pssHostPath: Rule = {
  id: "pss-host-path",
  title: "No hostPath volumes outside the reasoned allowlist",
  severity: "error",
  why: "A hostPath volume reads or writes the node's filesystem directly: it escapes the container, survives the pod, and Velero's file-system backup cannot copy it.",
  fix: "Use a PersistentVolumeClaim, emptyDir, ConfigMap or Secret. A node agent that must read host files (metrics, logs) goes on the host-access allowlist with the exact paths and a reason.",
  check(ctx) {
    const out: Violation[] = [];
    for (const pod of allPodSpecs(ctx.objects)) {
      const allowances = hostAllowances(ctx, pod.owner);
      const allowedPaths = allowances.flatMap((a) => a.paths ?? []);
      arr(pod.spec.volumes).forEach((v, i) => {
        const vol = rec(v);
        if (vol.hostPath === undefined || vol.hostPath === null) return;
        const path = str(rec(vol.hostPath).path) ?? "";
        const name = str(vol.name) ?? `#${i}`;
        const admitting = allowances.filter((a) => pathAllowed(path, a.paths ?? []));
        if (admitting.length === 0) {
          const detail = allowedPaths.length ? ` (allowed here: ${allowedPaths.join(", ")})` : "";
          out.push(violation(this, pod.owner, `${pod.path}/volumes/${i}/hostPath`, `volume '${name}' mounts host path '${path}'${detail}`));
          return;
        }
        if (!admitting.every((a) => a.readOnly === true)) return;
        // Admitted read-only: a writable mount of it would let the agent change the node.
        for (const c of containersOf(pod)) {
          arr(c.container.volumeMounts).forEach((m, j) => {
            const mount = rec(m);
            if (str(mount.name) === name && mount.readOnly !== true)
              out.push(violation(this, pod.owner, `${c.path}/volumeMounts/${j}/readOnly`, `container '${c.name}' mounts host path '${path}' (volume '${name}') writable; the allowlist admits it read-only`));
          });
        }
      });
    }
    return out;
  },
};
