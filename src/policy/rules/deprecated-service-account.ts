import { allPodSpecs } from "../lib/pods.ts";
import { str, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

export const deprecatedServiceAccount: Rule = {
  id: "deprecated-service-account",
  title: "serviceAccountName, not serviceAccount",
  severity: "warning",
  why: "`serviceAccount` is the deprecated alias of `serviceAccountName`; when both are set and differ, which one wins depends on the API version, and tools that read only `serviceAccountName` (RBAC reviews, these rules) miss it.",
  fix: "Write `serviceAccountName` and delete `serviceAccount`.",
  check(ctx) {
    const out: Violation[] = [];
    for (const pod of allPodSpecs(ctx.objects)) {
      const old = str(pod.spec.serviceAccount);
      if (old !== undefined) out.push(violation(this, pod.owner, `${pod.path}/serviceAccount`, `pod uses the deprecated field serviceAccount ('${old}'); write serviceAccountName`));
    }
    return out;
  },
};
