/**
 * What the platform asks of the node: the CPU and memory requests and limits of every long-running
 * container, per component, with replicas counted, against the nodes' capacity and the platform's memory
 * budget (`homelab footprint`).
 *
 * Plain objects are read from their pod specs. A chart's pods are not in the rendered tree (Argo CD
 * renders the chart), so a Helm release lists its containers and the values path of each one's
 * `resources` (`HelmRelease.containers`); the values read there are Helm's merge of ours over the
 * chart's locked defaults, so a container we do not size shows what the chart gives it (often nothing).
 *
 * Only long-running containers count: regular containers and sidecars (init containers with
 * `restartPolicy: Always`). One-shot init containers, Jobs and CronJobs hold their requests only while
 * they run, and chart hooks are not listed.
 */
import { DEFAULT_NODE_CAPACITY, DEFAULT_PLATFORM_MEMORY_BUDGET, parseQuantity, type HomelabConfig } from "../../config/schema.ts";
import type { LocatedObject } from "../../model/k8s.ts";
import { coalesceValues, parseDotted } from "../../validate/helm-values.ts";
import { containersOf, isSidecar, LONG_RUNNING_KINDS, podSpecs } from "../../policy/lib/pods.ts";
import { rec } from "../../policy/lib/util.ts";
import type { HelmRelease } from "./component.ts";

/** Where a container's resources came from. */
export type ResourceSource = "values" | "chart default" | "manifest" | "none";

export interface Quantities {
  /** As written (`100m`, `128Mi`, a number in a chart's values), or undefined when not set. */
  readonly cpu?: string;
  readonly memory?: string;
}

export interface ContainerFootprint {
  readonly component: string;
  /** `Deployment argocd-server` for plain objects, `chart argo-cd` for a chart's. */
  readonly workload: string;
  readonly container: string;
  /** Pods that run it, DaemonSets counted once per schedulable node. */
  readonly replicas: number;
  readonly perNode: boolean;
  readonly source: ResourceSource;
  readonly requests: Quantities;
  readonly limits: Quantities;
}

/** Sums with replicas counted: CPU in millicores, memory in bytes. A missing request counts its limit, as the API server fills it in. */
export interface Totals {
  readonly cpuRequests: number;
  readonly memoryRequests: number;
  readonly cpuLimits: number;
  readonly memoryLimits: number;
  /** Containers (times replicas) with no memory limit: the memory limit total is a floor then. */
  readonly withoutMemoryLimit: number;
}

export interface FootprintProblem {
  readonly component?: string;
  readonly container?: string;
  readonly message: string;
}

export interface Footprint {
  readonly nodes: readonly { readonly name: string; readonly cpu: string; readonly memory: string; readonly schedulable: boolean }[];
  /** Sum over schedulable nodes: millicores and bytes. */
  readonly capacity: { readonly cpu: number; readonly memory: number };
  /** The platform's memory request budget in bytes, and the quantity it was written as. */
  readonly budget: { readonly memory: number; readonly written: string };
  readonly containers: readonly ContainerFootprint[];
  readonly components: readonly { readonly name: string; readonly layer: string; readonly totals: Totals }[];
  readonly totals: { readonly platform: Totals; readonly apps: Totals; readonly all: Totals };
  readonly problems: readonly FootprintProblem[];
}

export interface FootprintComponent {
  readonly name: string;
  readonly layer: string;
  readonly helm?: HelmRelease;
  /** The component's rendered objects. */
  readonly objects: readonly LocatedObject[];
}

export interface FootprintInput {
  readonly config: Pick<HomelabConfig, "nodes"> & { readonly footprint?: { readonly platformMemoryBudget?: string } };
  readonly components: readonly FootprintComponent[];
  /** The parsed values.yaml of each chart a component installs, by chart name. */
  readonly chartDefaults: ReadonlyMap<string, unknown>;
}

const set = (v: unknown): v is string | number => (typeof v === "number" && Number.isFinite(v)) || (typeof v === "string" && v.trim() !== "");

/** Millicores of a CPU quantity (`250m`, `0.5`, `2`). */
export function millicores(q: string | number): number {
  return Math.round((typeof q === "number" ? q : parseQuantity(q)) * 1000);
}

/** Bytes of a memory quantity (`128Mi`, `1G`). */
export function bytes(q: string | number): number {
  return Math.round(typeof q === "number" ? q : parseQuantity(q));
}

function quantities(block: unknown): Quantities {
  const r = rec(block);
  return { ...(set(r.cpu) && { cpu: String(r.cpu) }), ...(set(r.memory) && { memory: String(r.memory) }) };
}

function valueAt(tree: unknown, segs: readonly string[]): unknown {
  let node = tree;
  for (const s of segs) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[s];
  }
  return node;
}

const ZERO: Totals = { cpuRequests: 0, memoryRequests: 0, cpuLimits: 0, memoryLimits: 0, withoutMemoryLimit: 0 };

function add(t: Totals, c: ContainerFootprint): Totals {
  const n = c.replicas;
  const cpuReq = c.requests.cpu ?? c.limits.cpu;
  const memReq = c.requests.memory ?? c.limits.memory;
  return {
    cpuRequests: t.cpuRequests + (cpuReq ? millicores(cpuReq) * n : 0),
    memoryRequests: t.memoryRequests + (memReq ? bytes(memReq) * n : 0),
    cpuLimits: t.cpuLimits + (c.limits.cpu ? millicores(c.limits.cpu) * n : 0),
    memoryLimits: t.memoryLimits + (c.limits.memory ? bytes(c.limits.memory) * n : 0),
    withoutMemoryLimit: t.withoutMemoryLimit + (c.limits.memory ? 0 : n),
  };
}

function badQuantity(q: Quantities, parse: (v: string) => number, key: keyof Quantities): boolean {
  const v = q[key];
  return v !== undefined && !Number.isFinite(parse(v));
}

/** Binary units for memory, as Kubernetes writes them: `512Mi`, `1.5Gi`. */
export function formatBytes(b: number): string {
  const gi = 1024 ** 3;
  if (b >= gi) return `${Number((b / gi).toFixed(2))}Gi`;
  return `${Number((b / 1024 ** 2).toFixed(1))}Mi`;
}

/** Cores as Kubernetes writes them: `250m`, `1.5`. */
export function formatCpu(m: number): string {
  return m % 1000 === 0 ? String(m / 1000) : m >= 1000 ? String(Number((m / 1000).toFixed(3))) : `${m}m`;
}

export function footprint(input: FootprintInput): Footprint {
  const problems: FootprintProblem[] = [];
  const workers = input.config.nodes.filter((n) => n.roles.includes("worker"));
  // The same rule as the HA shape (lib/topology.ts): without a worker role every node runs workloads.
  const schedulable = new Set((workers.length ? workers : input.config.nodes).map((n) => n.name));
  const nodes = input.config.nodes.map((n) => ({ name: n.name, ...(n.capacity ?? DEFAULT_NODE_CAPACITY), schedulable: schedulable.has(n.name) }));
  const perNode = schedulable.size;
  const capacity = nodes
    .filter((n) => n.schedulable)
    .reduce((c, n) => ({ cpu: c.cpu + millicores(n.cpu), memory: c.memory + bytes(n.memory) }), { cpu: 0, memory: 0 });
  const written = input.config.footprint?.platformMemoryBudget ?? DEFAULT_PLATFORM_MEMORY_BUDGET;
  const budget = { memory: bytes(written), written };

  const containers: ContainerFootprint[] = [];
  for (const comp of input.components) {
    // Plain objects: every long-running pod template of the component's folder.
    for (const lo of comp.objects) {
      if (!(LONG_RUNNING_KINDS as readonly string[]).includes(lo.object.kind)) continue;
      const daemon = lo.object.kind === "DaemonSet";
      const spec = rec(rec(lo.object).spec);
      const replicas = daemon ? perNode : lo.object.kind === "Pod" ? 1 : typeof spec.replicas === "number" ? spec.replicas : 1;
      for (const pod of podSpecs(lo)) {
        for (const c of containersOf(pod, ["initContainers", "containers"])) {
          if (c.kind === "initContainers" && !isSidecar(c)) continue;
          const res = rec(c.container.resources);
          const requests = quantities(res.requests);
          const limits = quantities(res.limits);
          const any = Object.keys(requests).length + Object.keys(limits).length > 0;
          containers.push({
            component: comp.name,
            workload: `${lo.object.kind} ${lo.object.metadata?.name ?? "?"}`,
            container: c.name,
            replicas,
            perNode: daemon,
            source: any ? "manifest" : "none",
            requests,
            limits,
          });
        }
      }
    }
    // A chart's containers, where its release says their resources live.
    const helm = comp.helm;
    if (!helm) continue;
    if (!helm.containers?.length) {
      problems.push({ component: comp.name, message: `chart ${helm.chart}: its containers are not listed (HelmRelease.containers), so its requests and limits are unknown` });
      continue;
    }
    const defaults = input.chartDefaults.get(helm.chart);
    if (defaults === undefined) {
      problems.push({ component: comp.name, message: `chart ${helm.chart}: no locked defaults (charts/); run \`npx homelab charts pull\`` });
      continue;
    }
    const merged = coalesceValues(defaults, helm.values);
    for (const decl of helm.containers) {
      const segs = parseDotted(decl.values);
      // The path must exist in the chart (a typo would silently read nothing and show "none").
      const parent = valueAt(defaults, segs.slice(0, -1));
      if (parent === null || typeof parent !== "object" || Array.isArray(parent)) {
        problems.push({ component: comp.name, container: decl.name, message: `chart ${helm.chart}: ${decl.values} is not a values path of the chart (its parent is not a map in values.yaml)` });
        continue;
      }
      const ours = valueAt(helm.values, segs);
      const block = rec(valueAt(merged, segs));
      const requests = quantities(block.requests);
      const limits = quantities(block.limits);
      const any = Object.keys(requests).length + Object.keys(limits).length > 0;
      const daemon = decl.replicas === "per-node";
      containers.push({
        component: comp.name,
        workload: `chart ${helm.chart}`,
        container: decl.name,
        replicas: daemon ? perNode : (decl.replicas ?? 1),
        perNode: daemon,
        source: !any ? "none" : ours !== undefined ? "values" : "chart default",
        requests,
        limits,
      });
    }
  }

  for (const c of containers) {
    const missing: string[] = [];
    // The API server copies a limit into a missing request (the same reading as the `resources` policy rule).
    if (c.requests.cpu === undefined && c.limits.cpu === undefined) missing.push("requests.cpu");
    if (c.requests.memory === undefined && c.limits.memory === undefined) missing.push("requests.memory");
    if (c.limits.memory === undefined) missing.push("limits.memory");
    const chart = c.workload.startsWith("chart ");
    const note = c.source === "chart default" ? " (the chart's default)" : c.source === "none" && chart ? " (no resources in the chart's defaults or ours)" : "";
    const where = `${c.workload}${note}`;
    if (missing.length) problems.push({ component: c.component, container: c.container, message: `${where}: no ${missing.join(", ")}` });
    const bad = [
      ...(badQuantity(c.requests, millicores, "cpu") ? [`requests.cpu '${c.requests.cpu}'`] : []),
      ...(badQuantity(c.limits, millicores, "cpu") ? [`limits.cpu '${c.limits.cpu}'`] : []),
      ...(badQuantity(c.requests, bytes, "memory") ? [`requests.memory '${c.requests.memory}'`] : []),
      ...(badQuantity(c.limits, bytes, "memory") ? [`limits.memory '${c.limits.memory}'`] : []),
    ];
    if (bad.length) problems.push({ component: c.component, container: c.container, message: `${c.workload}: ${bad.join(", ")} is not a Kubernetes quantity` });
  }
  const valid = containers.filter((c) => !problems.some((p) => p.component === c.component && p.container === c.container && p.message.includes("not a Kubernetes quantity")));

  const layers = new Map(input.components.map((c) => [c.name, c.layer]));
  const components = input.components.map((c) => ({
    name: c.name,
    layer: c.layer,
    totals: valid.filter((x) => x.component === c.name).reduce(add, ZERO),
  }));
  const platform = valid.filter((c) => layers.get(c.component) !== "apps").reduce(add, ZERO);
  const apps = valid.filter((c) => layers.get(c.component) === "apps").reduce(add, ZERO);
  const all = valid.reduce(add, ZERO);

  if (platform.memoryRequests > budget.memory)
    problems.push({ message: `the platform's memory requests, ${formatBytes(platform.memoryRequests)}, exceed its budget of ${written} (footprint.platformMemoryBudget): the box is for the apps` });
  if (all.cpuRequests > capacity.cpu)
    problems.push({ message: `CPU requests of ${formatCpu(all.cpuRequests)} exceed the ${formatCpu(capacity.cpu)} cores the nodes offer (nodes[].capacity.cpu): some pods would never be scheduled` });
  if (all.memoryRequests > capacity.memory)
    problems.push({ message: `memory requests of ${formatBytes(all.memoryRequests)} exceed the ${formatBytes(capacity.memory)} the nodes offer (nodes[].capacity.memory): some pods would never be scheduled` });

  return { nodes, capacity, budget, containers, components, totals: { platform, apps, all }, problems };
}
