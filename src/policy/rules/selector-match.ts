import { exemptionReason, POLICY_ANNOTATIONS } from "../annotations.ts";
import { CONTROLLER_KINDS, podSpecs, podTemplateLabels } from "../lib/pods.ts";
import { mapSelectorMatches, selectorIsEmpty, selectorMatches } from "../lib/selectors.ts";
import { namespaceOf, ofKind, rec, stringMap, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

/** Kinds whose `spec.selector` the API requires (a Job's is generated when left out). */
const SELECTOR_REQUIRED = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"]);

export const selectorMatch: Rule = {
  id: "selector-match",
  title: "Selectors match the pod labels",
  severity: "error",
  why: "A workload whose selector misses its own pod labels is rejected or adopts the wrong pods; a Service whose selector matches no pod routes traffic nowhere.",
  fix: "Make the workload's `spec.selector` a subset of `spec.template.metadata.labels`, and a Service's `spec.selector` a subset of the labels of the pods it fronts.",
  check(ctx) {
    const out: Violation[] = [];
    for (const lo of ofKind(ctx.objects, ...CONTROLLER_KINDS)) {
      const selector = rec(lo.object.spec).selector;
      const pod = podSpecs(lo)[0];
      if (!pod) continue;
      if (selector === undefined) {
        if (SELECTOR_REQUIRED.has(lo.object.kind)) out.push(violation(this, lo, "/spec/selector", `${lo.object.kind} has no selector`));
        continue;
      }
      if (selectorIsEmpty(selector)) out.push(violation(this, lo, "/spec/selector", "selector is empty and would select every pod in the namespace"));
      else if (!selectorMatches(selector, pod.labels))
        out.push(violation(this, lo, "/spec/selector", `selector does not match the pod template labels ${JSON.stringify(pod.labels)}`));
    }
    for (const dc of ofKind(ctx.objects, "DeploymentConfig")) {
      // OpenShift's DeploymentConfig selects with a plain map, like a Service.
      const selector = stringMap(rec(dc.object.spec).selector);
      const labels = podTemplateLabels(dc) ?? {};
      if (Object.keys(selector).length && !mapSelectorMatches(selector, labels))
        out.push(violation(this, dc, "/spec/selector", `selector does not match the pod template labels ${JSON.stringify(labels)}`));
    }
    const pods = ctx.objects.flatMap((lo) => {
      const labels = podTemplateLabels(lo);
      return labels ? [{ owner: lo, labels }] : [];
    });
    for (const svc of ofKind(ctx.objects, "Service")) {
      const spec = rec(svc.object.spec);
      const selector = stringMap(spec.selector);
      if (spec.type === "ExternalName" || Object.keys(selector).length === 0) continue;
      // Pods another controller creates at run time, said with a reason (annotations.ts).
      if (exemptionReason(stringMap(svc.object.metadata.annotations), POLICY_ANNOTATIONS.runtimePods) !== undefined) continue;
      const ns = namespaceOf(svc.object);
      const here = pods.filter((p) => namespaceOf(p.owner.object) === ns);
      // With no pods of this namespace in the input, the Service fronts something we cannot see.
      if (here.length === 0) continue;
      if (!here.some((p) => mapSelectorMatches(selector, p.labels)))
        out.push(violation(this, svc, "/spec/selector", `selector ${JSON.stringify(selector)} matches no pod template in namespace '${ns ?? "(none)"}'`));
    }
    return out;
  },
};
