import { allContainers } from "../lib/pods.ts";
import { arr, rec, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

/** The only capability the restricted profile lets a container add back. */
const ADDABLE = new Set(["NET_BIND_SERVICE"]);

export const pssCapabilities: Rule = {
  id: "pss-capabilities",
  title: "Capabilities: drop ALL, add back at most NET_BIND_SERVICE",
  severity: "error",
  why: "Container runtimes grant a default set of Linux capabilities (CHOWN, SETUID, NET_RAW, ...) that a web process never needs and an attacker always wants.",
  fix: "Set `securityContext.capabilities.drop: [ALL]` on every container; add `NET_BIND_SERVICE` only when it must bind a port below 1024.",
  check(ctx) {
    const out: Violation[] = [];
    for (const c of allContainers(ctx.objects)) {
      const caps = rec(rec(c.container.securityContext).capabilities);
      const at = `${c.path}/securityContext/capabilities`;
      if (!arr(caps.drop).includes("ALL"))
        out.push(violation(this, c.pod.owner, `${at}/drop`, `container '${c.name}' does not drop ALL capabilities`));
      arr(caps.add).forEach((cap, i) => {
        if (!ADDABLE.has(String(cap)))
          out.push(violation(this, c.pod.owner, `${at}/add/${i}`, `container '${c.name}' adds capability ${String(cap)}; only NET_BIND_SERVICE may be added`));
      });
    }
    return out;
  },
};
