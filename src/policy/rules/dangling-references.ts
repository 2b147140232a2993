import type { LocatedObject } from "../../model/k8s.ts";
import { exemptionReason, POLICY_ANNOTATIONS } from "../annotations.ts";
import { namespaceScope, wholeNamespacesSkipReason, type NamespaceScope } from "../lib/namespaces.ts";
import { containersOf, operatorPodLabels, podSpecs, podTemplateLabels } from "../lib/pods.ts";
import { mapSelectorMatches, selectorIsEmpty, selectorMatches } from "../lib/selectors.ts";
import { arr, byNamespace, namespaceOf, ofKind, rec, str, stringMap, violation, type Obj } from "../lib/util.ts";
import type { PolicyContext, Rule, Violation } from "../types.ts";

/** A pod template of the input: its owner, namespace and labels (a template without a spec counts). */
interface PodTemplate {
  readonly owner: LocatedObject;
  readonly ns: string | undefined;
  readonly labels: Record<string, string>;
}

function podTemplates(ctx: PolicyContext): PodTemplate[] {
  return ctx.objects.flatMap((lo) => {
    const labels = podTemplateLabels(lo);
    return labels ? [{ owner: lo, ns: namespaceOf(lo.object), labels }] : [];
  });
}

const ns = (o: LocatedObject) => namespaceOf(o.object);

const nsName = (n: string | undefined) => `'${n ?? "(none)"}'`;

export const danglingReferences: Rule = {
  id: "dangling-references",
  title: "References point at objects that exist",
  severity: "error",
  why: "Argo CD syncs broken wiring without a word: a Service whose selector or named targetPort matches no pod, an Ingress whose backend Service or port is missing, a pod whose ServiceAccount does not exist (it is never created), a ServiceMonitor or PodMonitor that selects nothing, a NetworkPolicy whose selector or peer matches no pod, an autoscaler for a missing workload, a claim no pod mounts. Each shows up only as traffic that goes nowhere or metrics that never come.",
  fix: `Fix the name, label or port so that it matches the object meant, or delete what is left over. A NetworkPolicy or monitor for pods a controller creates at run time (an ACME solver) says so with \`${POLICY_ANNOTATIONS.runtimePods}: <which controller>\`. Judged only on namespaces the input holds whole (\`--whole-namespaces\` on paths).`,
  skip: wholeNamespacesSkipReason,
  check(ctx) {
    const scope = namespaceScope(ctx);
    const pods = podTemplates(ctx);
    const podsIn = byNamespace(pods, (p) => p.ns);
    const servicesIn = byNamespace(ofKind(ctx.objects, "Service"), ns);
    const out: Violation[] = [];
    out.push(...services(this, ctx, scope, podsIn));
    out.push(...ingresses(this, ctx, scope, servicesIn));
    out.push(...serviceAccounts(this, ctx, scope));
    out.push(...monitors(this, ctx, scope, podsIn, servicesIn));
    out.push(...networkPolicies(this, ctx, scope, podsIn));
    out.push(...autoscalers(this, ctx, scope));
    out.push(...claims(this, ctx, scope));
    return out;
  },
};

type R = Pick<Rule, "id" | "severity">;

/** The object says (with a reason) that a controller creates the pods it selects at run time. */
function createdAtRunTime(lo: LocatedObject): boolean {
  return exemptionReason(stringMap(lo.object.metadata.annotations), POLICY_ANNOTATIONS.runtimePods) !== undefined;
}

/** A Service's named targetPort must be a port some selected container declares. (Its selector matching nothing is selector-match's.) */
function services(rule: R, ctx: PolicyContext, scope: NamespaceScope, podsIn: (n: string | undefined) => readonly PodTemplate[]): Violation[] {
  const out: Violation[] = [];
  for (const svc of ofKind(ctx.objects, "Service")) {
    if (!scope.whole(ns(svc))) continue;
    const selector = stringMap(rec(svc.object.spec).selector);
    if (Object.keys(selector).length === 0) continue;
    const selected = podsIn(ns(svc)).filter((p) => mapSelectorMatches(selector, p.labels));
    // An operator's pods carry ports we cannot see (it writes their containers): not judged.
    if (selected.length === 0 || selected.some((p) => operatorPodLabels(p.owner) !== undefined)) continue;
    const names = new Set(selected.flatMap((p) => podSpecs(p.owner).flatMap((s) => containersOf(s, ["initContainers", "containers"]))).flatMap((c) => arr(c.container.ports).map((x) => str(rec(x).name))));
    arr(rec(svc.object.spec).ports).forEach((p, i) => {
      const target = rec(p).targetPort;
      if (typeof target === "string" && !/^\d+$/.test(target) && !names.has(target))
        out.push(violation(rule, svc, `/spec/ports/${i}/targetPort`, `targetPort '${target}' is a port name no container of the selected pods declares`));
    });
  }
  return out;
}

function ingresses(rule: R, ctx: PolicyContext, scope: NamespaceScope, servicesIn: (n: string | undefined) => readonly LocatedObject[]): Violation[] {
  const out: Violation[] = [];
  for (const ing of ofKind(ctx.objects, "Ingress")) {
    if (!scope.whole(ns(ing))) continue;
    const spec = rec(ing.object.spec);
    const backends: { backend: Obj; path: string }[] = [];
    if (spec.defaultBackend !== undefined) backends.push({ backend: rec(spec.defaultBackend), path: "/spec/defaultBackend" });
    arr(spec.rules).forEach((r, i) =>
      arr(rec(rec(r).http).paths).forEach((p, j) => backends.push({ backend: rec(rec(p).backend), path: `/spec/rules/${i}/http/paths/${j}/backend` })),
    );
    for (const { backend, path } of backends) {
      // `resource` backends point at custom objects this rule cannot judge.
      if (backend.service === undefined) continue;
      const ref = rec(backend.service);
      const name = str(ref.name);
      const svc = servicesIn(ns(ing)).find((s) => s.object.metadata.name === name);
      if (!svc) {
        out.push(violation(rule, ing, `${path}/service/name`, `backend Service '${name ?? ""}' does not exist in namespace ${nsName(ns(ing))}`));
        continue;
      }
      const port = rec(ref.port);
      const ports = arr(rec(svc.object.spec).ports).map(rec);
      if (typeof port.number === "number" && !ports.some((p) => p.port === port.number))
        out.push(violation(rule, ing, `${path}/service/port/number`, `Service '${name}' has no port ${port.number}`));
      if (typeof port.name === "string" && !ports.some((p) => p.name === port.name))
        out.push(violation(rule, ing, `${path}/service/port/name`, `Service '${name}' has no port named '${port.name}'`));
    }
  }
  return out;
}

function serviceAccounts(rule: R, ctx: PolicyContext, scope: NamespaceScope): Violation[] {
  const out: Violation[] = [];
  const accounts = new Set(ofKind(ctx.objects, "ServiceAccount").map((a) => `${ns(a) ?? ""}/${a.object.metadata.name}`));
  for (const lo of ctx.objects) {
    if (!scope.whole(ns(lo))) continue;
    for (const pod of podSpecs(lo)) {
      const field = str(pod.spec.serviceAccountName) !== undefined ? "serviceAccountName" : "serviceAccount";
      const name = str(pod.spec[field]);
      // Every namespace has its `default` ServiceAccount.
      if (name === undefined || name === "default" || accounts.has(`${ns(lo) ?? ""}/${name}`)) continue;
      out.push(violation(rule, lo, `${pod.path}/${field}`, `ServiceAccount '${name}' does not exist in namespace ${nsName(ns(lo))}, so the pods are never created`));
    }
  }
  return out;
}

/** Namespaces a ServiceMonitor/PodMonitor looks into: every one, the listed ones, or its own. */
function monitoredNamespaces(m: LocatedObject, all: readonly (string | undefined)[]): readonly (string | undefined)[] {
  const sel = rec(rec(m.object.spec).namespaceSelector);
  if (sel.any === true) return all;
  const names = arr(sel.matchNames).filter((x): x is string => typeof x === "string");
  return names.length ? names : [ns(m)];
}

function monitors(
  rule: R,
  ctx: PolicyContext,
  scope: NamespaceScope,
  podsIn: (n: string | undefined) => readonly PodTemplate[],
  servicesIn: (n: string | undefined) => readonly LocatedObject[],
): Violation[] {
  const out: Violation[] = [];
  const all = [...new Set(ctx.objects.map(ns))];
  for (const m of ofKind(ctx.objects, "ServiceMonitor", "PodMonitor")) {
    if (!m.object.apiVersion.startsWith("monitoring.coreos.com/")) continue;
    const looked = monitoredNamespaces(m, all);
    if (!looked.every((n) => scope.whole(n)) || createdAtRunTime(m)) continue;
    const selector = rec(m.object.spec).selector;
    const where = `namespace${looked.length === 1 ? "" : "s"} ${looked.map(nsName).join(", ")}`;
    if (m.object.kind === "ServiceMonitor") {
      if (!looked.some((n) => servicesIn(n).some((s) => selectorMatches(selector, stringMap(s.object.metadata.labels)))))
        out.push(violation(rule, m, "/spec/selector", `selects no Service in ${where}, so nothing is scraped`));
    } else if (!looked.some((n) => podsIn(n).some((p) => selectorMatches(selector, p.labels)))) {
      out.push(violation(rule, m, "/spec/selector", `selects no pod in ${where}, so nothing is scraped`));
    }
  }
  return out;
}

function networkPolicies(rule: R, ctx: PolicyContext, scope: NamespaceScope, podsIn: (n: string | undefined) => readonly PodTemplate[]): Violation[] {
  const out: Violation[] = [];
  for (const np of ofKind(ctx.objects, "NetworkPolicy")) {
    const here = ns(np);
    if (!scope.whole(here) || createdAtRunTime(np)) continue;
    const local = podsIn(here);
    const spec = rec(np.object.spec);
    // `podSelector: {}` means the whole namespace, which is never dangling.
    if (!selectorIsEmpty(spec.podSelector) && !local.some((p) => selectorMatches(spec.podSelector, p.labels)))
      out.push(violation(rule, np, "/spec/podSelector", `podSelector matches no pod in namespace ${nsName(here)}, so the policy protects nothing`));
    for (const [dir, peersKey] of [["ingress", "from"], ["egress", "to"]] as const) {
      arr(spec[dir]).forEach((r, i) =>
        arr(rec(r)[peersKey]).forEach((p, j) => {
          const peer = rec(p);
          if (peer.podSelector === undefined || selectorIsEmpty(peer.podSelector)) return;
          // Another namespace is judged when the selector names it by its immutable name label and the input holds it whole.
          const there = peer.namespaceSelector === undefined ? here : namedNamespace(peer.namespaceSelector);
          if (there === null || !scope.whole(there)) return;
          if (!podsIn(there).some((x) => selectorMatches(peer.podSelector, x.labels)))
            out.push(violation(rule, np, `/spec/${dir}/${i}/${peersKey}/${j}/podSelector`, `${dir} peer's podSelector matches no pod in namespace ${nsName(there)}, so the flow it allows goes nowhere`));
        }),
      );
    }
  }
  return out;
}

/** The one namespace a namespaceSelector names by `kubernetes.io/metadata.name`, or null when it selects by other labels. */
function namedNamespace(selector: unknown): string | null {
  const sel = rec(selector);
  const labels = stringMap(sel.matchLabels);
  const name = labels["kubernetes.io/metadata.name"];
  return name !== undefined && Object.keys(labels).length === 1 && arr(sel.matchExpressions).length === 0 ? name : null;
}

function autoscalers(rule: R, ctx: PolicyContext, scope: NamespaceScope): Violation[] {
  const out: Violation[] = [];
  for (const hpa of ofKind(ctx.objects, "HorizontalPodAutoscaler")) {
    if (!scope.whole(ns(hpa))) continue;
    const ref = rec(rec(hpa.object.spec).scaleTargetRef);
    const kind = str(ref.kind);
    const name = str(ref.name);
    if (!ctx.objects.some((o) => o.object.kind === kind && o.object.metadata.name === name && ns(o) === ns(hpa)))
      out.push(violation(rule, hpa, "/spec/scaleTargetRef", `scaleTargetRef ${kind ?? "?"} '${name ?? ""}' does not exist in namespace ${nsName(ns(hpa))}`));
  }
  return out;
}

function claims(rule: R, ctx: PolicyContext, scope: NamespaceScope): Violation[] {
  const out: Violation[] = [];
  const mounted = new Set(
    ctx.objects.flatMap((lo) => podSpecs(lo).flatMap((p) => arr(p.spec.volumes).map((v) => `${ns(lo) ?? ""}/${str(rec(rec(v).persistentVolumeClaim).claimName) ?? ""}`))),
  );
  for (const pvc of ofKind(ctx.objects, "PersistentVolumeClaim")) {
    if (!scope.whole(ns(pvc)) || mounted.has(`${ns(pvc) ?? ""}/${pvc.object.metadata.name}`)) continue;
    out.push(violation(rule, pvc, "/metadata/name", `no pod in namespace ${nsName(ns(pvc))} mounts this claim: its volume is provisioned and kept for nothing`));
  }
  return out;
}
