import { exemptionReason, POLICY_ANNOTATIONS } from "../annotations.ts";
import { podSpecs, WORKLOAD_KINDS } from "../lib/pods.ts";
import { mapSelectorMatches, selectorMatches } from "../lib/selectors.ts";
import { arr, byNamespace, namespaceOf, ofKind, rec, stringMap, violation } from "../lib/util.ts";
import type { LocatedObject } from "../../model/k8s.ts";
import type { Rule, Violation } from "../types.ts";

/**
 * The ServiceMonitors/PodMonitors that look into a namespace: every namespace (`any`), the listed ones, or
 * their own. Indexed once: asking each monitor for each workload grew with apps × apps (a million
 * questions at 1000 apps).
 */
function watchers(monitors: readonly LocatedObject[]): (ns: string | undefined) => readonly LocatedObject[] {
  const everywhere: LocatedObject[] = [];
  const byNs = new Map<unknown, LocatedObject[]>();
  for (const m of monitors) {
    const sel = rec(rec(m.object.spec).namespaceSelector);
    if (sel.any === true) {
      everywhere.push(m);
      continue;
    }
    const names = arr(sel.matchNames);
    // `includes` and a Map key compare alike (SameValueZero).
    for (const n of names.length ? new Set(names) : [namespaceOf(m.object)]) {
      const list = byNs.get(n);
      if (list) list.push(m);
      else byNs.set(n, [m]);
    }
  }
  const seen = new Map<unknown, readonly LocatedObject[]>();
  return (ns) => {
    let list = seen.get(ns);
    if (!list) seen.set(ns, (list = [...everywhere, ...(byNs.get(ns) ?? [])]));
    return list;
  };
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
    const podMonitorsOf = watchers(ofKind(ctx.objects, "PodMonitor"));
    const serviceMonitorsOf = watchers(ofKind(ctx.objects, "ServiceMonitor"));
    const servicesIn = byNamespace(
      ofKind(ctx.objects, "Service").map((svc) => ({ ns: namespaceOf(svc.object), selector: stringMap(rec(svc.object.spec).selector), labels: stringMap(svc.object.metadata.labels) })),
      (s) => s.ns,
    );
    const out: Violation[] = [];
    for (const lo of ofKind(ctx.objects, ...WORKLOAD_KINDS)) {
      if (exemptionReason(lo.object.metadata.annotations, POLICY_ANNOTATIONS.scrapeExempt)) continue;
      const pod = podSpecs(lo)[0];
      if (!pod) continue;
      const ns = namespaceOf(lo.object);
      const byPodMonitor = podMonitorsOf(ns).some((m) => selectorMatches(rec(m.object.spec).selector, pod.labels));
      const byServiceMonitor = servicesIn(ns).some((svc) => {
        if (Object.keys(svc.selector).length === 0 || !mapSelectorMatches(svc.selector, pod.labels)) return false;
        return serviceMonitorsOf(ns).some((m) => selectorMatches(rec(m.object.spec).selector, svc.labels));
      });
      if (!byPodMonitor && !byServiceMonitor)
        out.push(violation(this, lo, "/spec/template/metadata/labels", `no ServiceMonitor or PodMonitor selects the pods of this ${lo.object.kind}`));
    }
    return out;
  },
};
