import type { LocatedObject } from "../../model/k8s.ts";
import { arr, rec, str, stringMap, type Obj } from "./util.ts";

/** A pod spec found inside an object, with the JSON paths rules report against. */
export interface PodSpecAt {
  readonly owner: LocatedObject;
  readonly spec: Obj;
  /** Path of the pod spec, e.g. `/spec/template/spec`. */
  readonly path: string;
  /** Labels of the pods it creates. */
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  /** Path of the pod metadata, e.g. `/spec/template/metadata`. */
  readonly metadataPath: string;
}

/** Where each workload kind keeps its pod template (without the trailing `/spec` or `/metadata`). */
const TEMPLATE_AT: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  PodTemplate: ["template"],
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  ReplicationController: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
  // OpenShift's (deprecated) Deployment with triggers; its pods are ordinary pods.
  DeploymentConfig: ["spec", "template"],
};

/** Kinds that run long-lived pods (probes, scraping and coverage rules apply to them). */
export const LONG_RUNNING_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "DeploymentConfig", "Pod"] as const;

/** Kinds the coverage rules treat as workloads (one app each, long-running). */
export const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "DeploymentConfig"] as const;

/** Kinds whose pods are created from a template by a controller (selectors must match it). */
export const CONTROLLER_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"] as const;

export function hasPodTemplate(kind: string): boolean {
  return Object.hasOwn(TEMPLATE_AT, kind);
}

/**
 * Custom resources from which an operator creates pods at run time, with the labels it gives them on
 * top of the resource's `spec.podMetadata.labels` (its own labels win). A Service, NetworkPolicy or
 * monitor selecting those pods (kube-prometheus's `alertmanager-main`) selects real pods, although no pod
 * template in the input carries the labels. The labels are prometheus-operator's
 * (pkg/{alertmanager,prometheus,thanos}/statefulset.go; shard 0 of a Prometheus always exists).
 */
const OPERATOR_POD_LABELS: Readonly<Record<string, (name: string) => Record<string, string>>> = {
  "monitoring.coreos.com/Alertmanager": (name) => ({ "app.kubernetes.io/name": "alertmanager", "app.kubernetes.io/instance": name, "app.kubernetes.io/managed-by": "prometheus-operator", alertmanager: name }),
  "monitoring.coreos.com/Prometheus": (name) => ({
    "app.kubernetes.io/name": "prometheus",
    "app.kubernetes.io/instance": name,
    "app.kubernetes.io/managed-by": "prometheus-operator",
    prometheus: name,
    "operator.prometheus.io/name": name,
    "operator.prometheus.io/shard": "0",
  }),
  "monitoring.coreos.com/PrometheusAgent": (name) => ({
    "app.kubernetes.io/name": "prometheus-agent",
    "app.kubernetes.io/instance": name,
    "app.kubernetes.io/managed-by": "prometheus-operator",
    "operator.prometheus.io/name": name,
    "operator.prometheus.io/shard": "0",
  }),
  "monitoring.coreos.com/ThanosRuler": (name) => ({ "app.kubernetes.io/name": "thanos-ruler", "app.kubernetes.io/instance": name, "app.kubernetes.io/managed-by": "prometheus-operator", "thanos-ruler": name }),
};

/** The labels of the pods an operator creates from this custom resource, or undefined for other objects. */
export function operatorPodLabels(lo: LocatedObject): Record<string, string> | undefined {
  const { apiVersion, kind, metadata } = lo.object;
  const group = typeof apiVersion === "string" && apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.lastIndexOf("/")) : "";
  const labels = OPERATOR_POD_LABELS[`${group}/${kind}`];
  const name = metadata?.name;
  if (!labels || typeof name !== "string") return undefined;
  return { ...stringMap(rec(rec(rec(lo.object).spec).podMetadata).labels), ...labels(name) };
}

/**
 * The labels of the pods a workload creates, or undefined for kinds without a pod template. Unlike
 * `podSpecs` a template without a spec still counts: what a selector matches is its labels. Custom
 * resources an operator makes pods from count with the labels it gives them (`operatorPodLabels`).
 */
export function podTemplateLabels(lo: LocatedObject): Record<string, string> | undefined {
  const at = TEMPLATE_AT[lo.object.kind];
  if (!at) return operatorPodLabels(lo);
  let node: unknown = lo.object;
  for (const k of at) node = rec(node)[k];
  return stringMap(rec(rec(node).metadata).labels);
}

/** The pod spec of a workload, or none for other kinds (and for templates without a spec). */
export function podSpecs(lo: LocatedObject): PodSpecAt[] {
  const at = TEMPLATE_AT[lo.object.kind];
  if (!at) return [];
  let node: unknown = lo.object;
  for (const k of at) node = rec(node)[k];
  const tpl = rec(node);
  const spec = tpl.spec;
  if (spec === undefined || spec === null || typeof spec !== "object" || Array.isArray(spec)) return [];
  const base = at.map((k) => "/" + k).join("");
  const md = rec(tpl.metadata);
  return [
    {
      owner: lo,
      spec: spec as Obj,
      path: `${base}/spec`,
      labels: stringMap(md.labels),
      annotations: stringMap(md.annotations),
      metadataPath: `${base}/metadata`,
    },
  ];
}

export type ContainerKind = "initContainers" | "containers" | "ephemeralContainers";

export interface ContainerAt {
  readonly pod: PodSpecAt;
  readonly container: Obj;
  readonly kind: ContainerKind;
  readonly name: string;
  /** Path of the container, e.g. `/spec/template/spec/containers/0`. */
  readonly path: string;
}

/** Every container of a pod spec, init and ephemeral ones included unless told otherwise. */
export function containersOf(pod: PodSpecAt, kinds: readonly ContainerKind[] = ["initContainers", "containers", "ephemeralContainers"]): ContainerAt[] {
  const out: ContainerAt[] = [];
  for (const kind of kinds) {
    arr(pod.spec[kind]).forEach((c, i) => {
      const container = rec(c);
      out.push({ pod, container, kind, name: str(container.name) ?? `#${i}`, path: `${pod.path}/${kind}/${i}` });
    });
  }
  return out;
}

/** Every pod spec of every object, in input order. */
export function allPodSpecs(objects: readonly LocatedObject[]): PodSpecAt[] {
  return objects.flatMap(podSpecs);
}

/** Every container of every pod spec, in input order. */
export function allContainers(objects: readonly LocatedObject[], kinds?: readonly ContainerKind[]): ContainerAt[] {
  return allPodSpecs(objects).flatMap((p) => containersOf(p, kinds));
}

/**
 * A sidecar init container (`restartPolicy: Always`) runs for the pod's whole life,
 * so the long-running-container rules (probes) treat it like a regular container.
 */
export function isSidecar(c: ContainerAt): boolean {
  return c.kind === "initContainers" && c.container.restartPolicy === "Always";
}
