import { allContainers } from "../lib/pods.ts";
import { arr, ofKind, rec, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

const SSH = 22;

export const sshPort: Rule = {
  id: "ssh-port",
  title: "No SSH port",
  severity: "warning",
  why: "An SSH server in a container is a second way in that skips the image, GitOps and the audit log; a container is debugged with `kubectl debug` or `exec`. (Forgejo's Git-over-SSH runs on the host, on port 2222.)",
  fix: "Remove the SSH port (22) from the container and the Service; use `kubectl debug`/`exec` for access.",
  check(ctx) {
    const out: Violation[] = [];
    for (const c of allContainers(ctx.objects, ["initContainers", "containers"])) {
      arr(c.container.ports).forEach((p, i) => {
        const port = rec(p);
        if (port.containerPort === SSH && (port.protocol === undefined || port.protocol === "TCP"))
          out.push(violation(this, c.pod.owner, `${c.path}/ports/${i}/containerPort`, `container '${c.name}' declares the SSH port 22`));
      });
    }
    for (const svc of ofKind(ctx.objects, "Service")) {
      arr(rec(svc.object.spec).ports).forEach((p, i) => {
        const port = rec(p);
        if (port.port === SSH || port.targetPort === SSH) out.push(violation(this, svc, `/spec/ports/${i}`, "Service exposes the SSH port 22"));
      });
    }
    return out;
  },
};
