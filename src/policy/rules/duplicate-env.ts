import { allContainers } from "../lib/pods.ts";
import { arr, rec, str, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

export const duplicateEnv: Rule = {
  id: "duplicate-env",
  title: "No environment variable set twice",
  severity: "error",
  why: "When a container lists the same variable twice the last one wins silently: the first value (often the one a reviewer looks at) never reaches the process, and server-side apply merges the list by name in ways that differ from kubectl's.",
  fix: "Keep one entry per name in each container's `env`.",
  check(ctx) {
    const out: Violation[] = [];
    for (const c of allContainers(ctx.objects)) {
      const seen = new Map<string, number>();
      arr(c.container.env).forEach((e, i) => {
        const name = str(rec(e).name);
        if (name === undefined) return;
        const first = seen.get(name);
        if (first === undefined) seen.set(name, i);
        else out.push(violation(this, c.pod.owner, `${c.path}/env/${i}/name`, `container '${c.name}' sets ${name} again (first at env/${first}); only the last value takes effect`));
      });
    }
    return out;
  },
};
