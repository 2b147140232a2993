/**
 * The base of every component: a cdk8s Chart whose name is also its namespace and its ArgoCD Application.
 * A component adds plain objects, names the network flows it needs, declares the secrets it reads and,
 * when it is a Helm release, its chart and typed values. The platform turns that into one gitops folder
 * and one Application.
 */
import { cdk8s } from "./packages.ts";
import type { Construct } from "constructs";
import { UserError } from "../../errors.ts";
import type { K8sObject } from "../../model/k8s.ts";
import type { SecretDecl } from "../../secrets/declared.ts";
import { adminRoute, isPublic, type AdminRoute, type AdminUi } from "./access.ts";
import { prometheusRule, type AlertGroup, type AlertRule } from "./alerts.ts";
import type { PlatformContext } from "./context.ts";
import { built, type DashboardBuilder, type DashboardDef } from "./dashboards.ts";
import { acmeSolverFlow, apiServerFlow, defaultDeny, dnsFlow, INGRESS_CONTROLLER, networkPolicy, peer, PROMETHEUS, type Flow, type Selector } from "./network.ts";

const { ApiObject, Chart } = cdk8s;
type ApiObject = InstanceType<typeof ApiObject>;


/** A Helm chart the component installs through its ArgoCD Application. */
export interface HelmRelease {
  /** Key in versions.yaml `charts:`; also the chart name. */
  readonly chart: string;
  /** Typed values; every key path must exist in the chart's own values.yaml. */
  readonly values: Record<string, unknown>;
  /** Key paths below which the chart takes free-form maps, with the reason. Every `containers[].values` path is one already. */
  readonly freeform?: readonly { path: string; reason: string }[];
  /** @default the component name */
  readonly releaseName?: string;
  /**
   * The chart's long-running containers and where each takes its `resources` in the values, for
   * `homelab footprint` (lib/footprint.ts). The merged values (chart defaults, then ours) are read, so a
   * container we do not size shows the chart's default. A release without this list is reported there.
   */
  readonly containers?: readonly ChartContainer[];
}

/** One container of a chart's workloads, as `HelmRelease.containers` lists it. */
export interface ChartContainer {
  /** What the footprint shows, e.g. `server` or `repo-server`. */
  readonly name: string;
  /** Dot path of its resources block in the values, e.g. `controller.resources` (`\.` for a dot in a key). */
  readonly values: string;
  /** Pods that run it: a number, or `per-node` for a DaemonSet (one on each schedulable node). @default 1 */
  readonly replicas?: number | "per-node";
  /**
   * Where the chart takes this container's image (lib/chart-images.ts): the dot path of its image block
   * (`{ registry?, repository | image | name, tag?, digest? | sha? }`), or that path with the chart's
   * fallbacks. The build refuses a path that reads no image. @default not known (not shown on the site)
   */
  readonly image?: string | ChartImage;
}

/** How a chart composes one container's image reference from its values. */
export interface ChartImage {
  /** Dot path of the image block, e.g. `controller.image`. */
  readonly values: string;
  /** Dot path of a shared block whose fields fill what this one leaves empty (argo-cd's `global.image`, ingress-nginx's). */
  readonly defaults?: string;
  /** Dot paths of chart-wide registries that replace the block's own when set, first set wins (`global.imageRegistry`). */
  readonly registryOverride?: readonly string[];
  /** Dot path of the registry the chart puts before a `name` when the block has none (cert-manager's `imageRegistry`). */
  readonly registryDefault?: string;
  /** Dot path of the repository namespace between registry and `name` (cert-manager's `imageNamespace`). */
  readonly namespace?: string;
  /** `appVersion` when the chart runs its (or the block's subchart's) appVersion for an empty tag. @default an empty tag is an error */
  readonly tag?: "appVersion";
  /** Put before the appVersion when it stands in for an empty tag (kube-state-metrics and node-exporter run `v<appVersion>`). */
  readonly appVersionPrefix?: string;
  /** A boolean field of the block that, when true, appends a suffix to the tag, set or not (node-exporter's `distroless`). */
  readonly variant?: { readonly field: string; readonly suffix: string };
}

/** A Service port an Ingress of the component sends traffic to (the pod port NetworkPolicies see). */
export interface IngressBackend {
  readonly namespace: string;
  readonly port: number;
}

/**
 * A metrics endpoint Prometheus scrapes: a ServiceMonitor (`kind: "service"`, `selector` = the Service's
 * labels) or a PodMonitor (`kind: "pod"`, `selector` = the pods' labels), on a named port.
 */
export interface ScrapeTarget {
  readonly kind: "service" | "pod";
  /** Name of the monitor; also names the NetworkPolicy that admits the scrape. */
  readonly name: string;
  readonly selector: Selector;
  /** Labels of the pods that serve the port (the NetworkPolicy selects them). @default selector */
  readonly pods?: Selector;
  /** Named port: the Service's port name (service) or the container's port name (pod). */
  readonly port: string;
  /** The pod port number behind `port`; NetworkPolicies match numbers, not names. */
  readonly portNumber: number;
  /** @default "/metrics" */
  readonly path?: string;
  /** @default "http" */
  readonly scheme?: "http" | "https";
}

/** A scrape target with the namespace of the component that declared it. */
export type LocatedScrapeTarget = ScrapeTarget & { readonly namespace: string };

export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

export interface ComponentProps {
  /** Sync wave of the component's Application in the root app: lower waves are healthy before higher ones start. */
  readonly wave: number;
  /** Pod Security Admission level enforced on the namespace. @default "restricted" */
  readonly podSecurity?: PodSecurityLevel;
  /** Extra ArgoCD sync options, e.g. `ServerSideApply=true` for charts whose CRDs are too large for client-side apply. */
  readonly syncOptions?: readonly string[];
  /** Whether the component's pods talk to the API server. @default false */
  readonly needsApiServer?: boolean | Selector;
  /**
   * Other namespaces the component's chart writes objects into, with the reason; the AppProject admits
   * them as destinations. @default none
   */
  readonly alsoIn?: readonly { namespace: string; reason: string }[];
  /** Where in the architecture the component sits; used by the summary and the docs. */
  readonly layer: "gitops" | "edge" | "platform" | "apps";
}

export const MANAGED_BY = "homelab";

export abstract class Component extends Chart {
  /** Name = namespace = ArgoCD Application. */
  readonly name: string;
  readonly ctx: PlatformContext;
  readonly props: ComponentProps;
  helm?: HelmRelease;
  readonly secrets: SecretDecl[] = [];
  readonly flows: Flow[] = [];
  /** Pod ports behind this component's Ingresses; ingress-nginx gets egress to exactly these. */
  readonly ingressBackends: IngressBackend[] = [];
  /** Admin UIs this component serves; the tunnel routes them only as `access` decides. */
  readonly adminUis: AdminUi[] = [];
  /** The component's alert rules with their unit tests; each group is one PrometheusRule. */
  readonly alertGroups: AlertGroup[] = [];
  /** Metrics endpoints Prometheus scrapes; Prometheus' egress is derived from every component's list. */
  readonly scrapeTargets: LocatedScrapeTarget[] = [];
  /** The component's Grafana dashboards, built; the platform renders them into the monitoring namespace. */
  readonly dashboards: DashboardDef[] = [];
  private seq = 0;

  constructor(scope: Construct, name: string, ctx: PlatformContext, props: ComponentProps) {
    super(scope, name, { disableResourceNameHashes: true });
    this.name = name;
    this.ctx = ctx;
    this.props = props;
    this.add(this.namespaceObject(props.podSecurity ?? "restricted"));
    this.add(defaultDeny(name));
    this.allow(dnsFlow);
    const api = props.needsApiServer;
    if (api) {
      this.allow(apiServerFlow(ctx.apiServerAddresses, ctx.config.network.serviceCIDR, api === true ? undefined : api));
    }
  }

  /** Labels every object of this component carries. */
  commonLabels(extra: Record<string, string> = {}): Record<string, string> {
    return { "app.kubernetes.io/part-of": this.ctx.config.name, "app.kubernetes.io/managed-by": MANAGED_BY, ...extra };
  }

  /** Adds a plain object (a kubernetes-models instance or a literal) to the component's folder. */
  add<T extends { toJSON?: () => unknown }>(obj: T | K8sObject): ApiObject {
    const json = (typeof (obj as { toJSON?: unknown }).toJSON === "function" ? (obj as { toJSON: () => unknown }).toJSON() : obj) as K8sObject;
    return new ApiObject(this, `o${this.seq++}`, json as never);
  }

  /**
   * Declares that an Ingress of this component routes to `port` on its pods: admits ingress-nginx there
   * and cert-manager's HTTP-01 solver, which runs in this namespace while a certificate is issued.
   */
  protected servedByIngress(pods: Selector, port: number): void {
    this.ingressBackends.push({ namespace: this.name, port });
    this.allow({ name: `from-ingress-nginx-${port}`, direction: "ingress", pods, peers: [peer.ns(INGRESS_CONTROLLER.namespace, INGRESS_CONTROLLER.labels)], ports: [{ port }] });
    if (!this.flows.some((f) => f.name === acmeSolverFlow.name)) this.allow(acmeSolverFlow);
  }

  /**
   * Declares an admin UI (a login page that can change the cluster). It is routed publicly only behind
   * Cloudflare Access or with a reasoned opt-out (lib/access.ts); otherwise it gets no Ingress, no
   * ingress-nginx flow and a 404 in the tunnel. The component renders its Ingress only when the returned
   * route is public.
   */
  protected adminUi(host: string, pods: Selector, port: number, portForward: string): AdminRoute {
    const route = adminRoute(this.ctx.config, host);
    this.adminUis.push({ component: this.name, route, portForward });
    if (isPublic(route)) this.servedByIngress(pods, port);
    return route;
  }

  /** Allows one network flow; the default is deny-all. */
  allow(flow: Flow): void {
    if (this.flows.some((f) => f.name === flow.name)) throw new Error(`${this.name}: flow '${flow.name}' declared twice`);
    this.flows.push(flow);
    this.add(networkPolicy(this.name, flow));
  }

  /**
   * Declares a Secret the component reads; its ciphertext comes from `secrets/<app>/<name>.sops.yaml`.
   * `declaredAt` is the config key that asked for it, when the operator did (an app's `secrets`).
   */
  secret(name: string, keys: readonly string[], declaredAt?: string): string {
    this.secrets.push({ app: this.name, namespace: this.name, name, keys, ...(declaredAt !== undefined && { declaredAt }) });
    return name;
  }

  /**
   * Declares alerts the component owns, as one PrometheusRule `<component>-<group>`. Each rule carries its
   * runbook page and both promtool test cases; the build parses and tests them (lib/alerts.ts) whether or
   * not they are rendered yet (see `renderAlertRules`).
   */
  alerts(group: string, rules: readonly AlertRule[]): void {
    const g: AlertGroup = { component: this.name, name: `${this.name}-${group}`, rules };
    if (this.alertGroups.some((x) => x.name === g.name)) throw new Error(`${this.name}: alert group '${group}' declared twice`);
    this.alertGroups.push(g);
  }

  /**
   * Declares a metrics endpoint: Prometheus (in namespace `monitoring`) may reach exactly this port of
   * these pods, and a ServiceMonitor or PodMonitor in this namespace tells it to. The monitor is rendered
   * with the monitoring stack only (`renderMonitors`), for the same reason as the alert rules; the
   * NetworkPolicy always, since it admits nothing else.
   */
  protected scrape(target: ScrapeTarget): void {
    if (this.scrapeTargets.some((t) => t.name === target.name)) throw new Error(`${this.name}: scrape target '${target.name}' declared twice`);
    this.scrapeTargets.push({ ...target, namespace: this.name });
    this.allow({
      name: `metrics-from-monitoring-${target.name}`,
      direction: "ingress",
      pods: target.pods ?? target.selector,
      peers: [peer.ns(PROMETHEUS.namespace, PROMETHEUS.labels)],
      ports: [{ port: target.portNumber }],
    });
  }

  /**
   * Declares a Grafana dashboard the component owns (built with lib/dashboards.ts). The build parses
   * every query whether or not Grafana exists yet; the platform renders it as a ConfigMap for Grafana's
   * sidecar once the monitoring component does.
   */
  dashboard(builder: DashboardBuilder): void {
    this.dashboards.push(built(this.name, builder));
  }

  private alertRulesRendered = false;

  /**
   * Adds the PrometheusRule objects of the declared alerts. The platform calls it only when it also
   * installs the monitoring stack: the PrometheusRule kind exists on the cluster only with the
   * prometheus-operator's CRDs, and an Application holding an object of an unknown kind never syncs.
   */
  renderAlertRules(): void {
    if (this.alertRulesRendered) return;
    this.alertRulesRendered = true;
    for (const g of this.alertGroups) this.add(prometheusRule(this.ctx, g, this.commonLabels()));
  }

  private monitorsRendered = false;

  /** Adds the ServiceMonitor/PodMonitor objects of the declared scrape targets (see `renderAlertRules`). */
  renderMonitors(): void {
    if (this.monitorsRendered) return;
    this.monitorsRendered = true;
    for (const t of this.scrapeTargets) this.add(monitorObject(t, this.commonLabels()));
  }

  /** Installs a Helm chart as part of this component's Application. */
  protected release(release: HelmRelease): void {
    if (!this.ctx.versions.charts[release.chart])
      throw new UserError(`versions.yaml: charts.${release.chart} is missing; component ${this.name} installs it`);
    // A container's resources block is a Kubernetes ResourceRequirements, free-form to the chart (often `{}`
    // by default): declaring the container in `containers` is what allows it, so no component repeats it.
    const listed = new Set((release.freeform ?? []).map((f) => f.path));
    const resources = (release.containers ?? [])
      .filter((c) => !listed.has(c.values))
      .map((c) => ({ path: c.values, reason: `resources of the ${c.name} container (Kubernetes ResourceRequirements)` }));
    this.helm = resources.length ? { ...release, freeform: [...(release.freeform ?? []), ...resources] } : release;
  }

  /**
   * A namespace of its own for one part of the component's chart (listed in `alsoIn`, where the chart puts
   * that part): its own Pod Security level and a deny-all NetworkPolicy, so that a part needing more than
   * the rest keeps the component's namespace at the stricter level.
   */
  protected partNamespace(name: string, level: PodSecurityLevel): void {
    if (!(this.props.alsoIn ?? []).some((a) => a.namespace === name))
      throw new UserError(`component ${this.name}: namespace ${name} must be listed in alsoIn (with the reason) before the component owns it`);
    this.add(this.namespaceObject(level, name));
    this.add(defaultDeny(name));
  }

  private namespaceObject(level: PodSecurityLevel, name = this.name): K8sObject {
    return {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name,
        labels: {
          ...this.commonLabels(),
          "pod-security.kubernetes.io/enforce": level,
          "pod-security.kubernetes.io/enforce-version": `v${this.ctx.config.kubernetesVersion}`,
          "pod-security.kubernetes.io/audit": "restricted",
          "pod-security.kubernetes.io/warn": "restricted",
        },
        // Namespaces first, so the chart's namespaced objects have somewhere to go.
        annotations: { "argocd.argoproj.io/sync-wave": "-1" },
      },
    };
  }
}

/** The ServiceMonitor or PodMonitor of one scrape target, looking into its own namespace only. */
export function monitorObject(t: LocatedScrapeTarget, labels: Record<string, string>): K8sObject {
  const endpoint = { port: t.port, path: t.path ?? "/metrics", scheme: t.scheme ?? "http" };
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: t.kind === "service" ? "ServiceMonitor" : "PodMonitor",
    metadata: { name: t.name, namespace: t.namespace, labels },
    spec: {
      selector: { matchLabels: t.selector },
      namespaceSelector: { matchNames: [t.namespace] },
      ...(t.kind === "service" ? { endpoints: [endpoint] } : { podMetricsEndpoints: [endpoint] }),
    },
  } as K8sObject;
}
