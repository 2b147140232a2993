import { exemptionReason, POLICY_ANNOTATIONS } from "../annotations.ts";
import { podSpecs, WORKLOAD_KINDS } from "../lib/pods.ts";
import { mapSelectorMatches, selectorMatches } from "../lib/selectors.ts";
import { arr, namespaceOf, ofKind, rec, stringMap, violation } from "../lib/util.ts";
import type { LocatedObject } from "../../model/k8s.ts";
import type { Rule, Violation } from "../types.ts";

/** Whether a ServiceMonitor/PodMonitor looks into namespace `ns`. */
function watches(monitor: LocatedObject, ns: string | undefined): boolean {
  const sel = rec(rec(monitor.object.spec).namespaceSelector);
  if (sel.any === true) return true;
  const names = arr(sel.matchNames);
  if (names.length) return names.includes(ns);
  return namespaceOf(monitor.object) === ns;
}

export const scrapeCoverage: Rule = {
  id: "scrape-coverage",
  title: "Every workload is scraped by Prometheus",
  severity: "error",
  why: "A workload Prometheus does not scrape has no alerts and no dashboards: it fails silently. Components own their observability.",
  fix: `Add a ServiceMonitor (for a Service in front of the pods) or a PodMonitor whose selector matches the pod labels. A workload with no metrics endpoint carries the annotation \`${POLICY_ANNOTATIONS.scrapeExempt}: <reason>\`.`,
  needsModel: true,
  skip: (ctx) =>
    ctx.model?.monitoring === false ? "skipped: the homelab renders no monitoring stack yet, so nothing could scrape a ServiceMonitor" : undefined,
  check(ctx) {
    const podMonitors = ofKind(ctx.objects, "PodMonitor");
    const serviceMonitors = ofKind(ctx.objects, "ServiceMonitor");
    const services = ofKind(ctx.objects, "Service");
    const out: Violation[] = [];
    for (const lo of ofKind(ctx.objects, ...WORKLOAD_KINDS)) {
      if (exemptionReason(lo.object.metadata.annotations, POLICY_ANNOTATIONS.scrapeExempt)) continue;
      const pod = podSpecs(lo)[0];
      if (!pod) continue;
      const ns = namespaceOf(lo.object);
      const byPodMonitor = podMonitors.some((m) => watches(m, ns) && selectorMatches(rec(m.object.spec).selector, pod.labels));
      const byServiceMonitor = services.some((svc) => {
        const sel = stringMap(rec(svc.object.spec).selector);
        if (namespaceOf(svc.object) !== ns || Object.keys(sel).length === 0 || !mapSelectorMatches(sel, pod.labels)) return false;
        const svcLabels = stringMap(svc.object.metadata.labels);
        return serviceMonitors.some((m) => watches(m, ns) && selectorMatches(rec(m.object.spec).selector, svcLabels));
      });
      if (!byPodMonitor && !byServiceMonitor)
        out.push(violation(this, lo, "/spec/template/metadata/labels", `no ServiceMonitor or PodMonitor selects the pods of this ${lo.object.kind}`));
    }
    return out;
  },
};
