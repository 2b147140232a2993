import type { Construct } from "constructs";
import { Component } from "../lib/component.ts";
import type { PlatformContext } from "../lib/context.ts";
import { peer } from "../lib/network.ts";
import type { AlloyEventsValues } from "../values/alloy.ts";
import { ALLOY_IMAGES, ALLOY_PORT, alloyPipeline, CONFIG_KEY, CONFIG_MAP } from "./alloy.ts";
import { LOKI, LOKI_PODS, LOKI_PORT, LOKI_URL } from "./loki.ts";

export const ALLOY_EVENTS = "alloy-events";
/** Its pods: the chart's name label, overridden so they are told apart from the per-node Alloy's. */
export const ALLOY_EVENTS_PODS = { "app.kubernetes.io/name": ALLOY_EVENTS };
/** The Alloy image's own non-root user (uid and gid 473). */
const ALLOY_USER = 473;
/** Where the events source keeps the last resource version it shipped, on an emptyDir. */
const DATA_DIR = "/var/lib/alloy";

/**
 * The cluster's Kubernetes events, shipped to Loki by exactly one Alloy. Events come from the API, not
 * from a node, so with several nodes the per-node DaemonSet (alloy.ts) would send each of them once per
 * node; it leaves them to this Deployment of one replica instead. Only the HA shape has it: on one node
 * the DaemonSet's single pod ships them.
 *
 * It reads nothing from the host, so its namespace stays Pod Security `restricted`: Alloy runs as its
 * image's own non-root user, and its only state is on an emptyDir (a new pod re-reads the events the API
 * still holds, about an hour of them; Loki keeps the first copy of an identical line).
 */
export class AlloyEvents extends Component {
  constructor(scope: Construct, ctx: PlatformContext) {
    super(scope, ALLOY_EVENTS, ctx, { wave: 1, layer: "platform", needsApiServer: ALLOY_EVENTS_PODS });

    this.add({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: CONFIG_MAP, namespace: this.name, labels: this.commonLabels(ALLOY_EVENTS_PODS) },
      data: { [CONFIG_KEY]: alloyPipeline({ cluster: ctx.config.name, lokiUrl: LOKI_URL, sources: { pods: false, events: true } }) },
    });

    const values: AlloyEventsValues = {
      nameOverride: ALLOY_EVENTS,
      fullnameOverride: ALLOY_EVENTS,
      global: { podSecurityContext: { runAsNonRoot: true, runAsUser: ALLOY_USER, runAsGroup: ALLOY_USER, fsGroup: ALLOY_USER, seccompProfile: { type: "RuntimeDefault" } } },
      crds: { create: false },
      alloy: {
        configMap: { create: false, name: CONFIG_MAP, key: CONFIG_KEY },
        clustering: { enabled: false },
        storagePath: `${DATA_DIR}/data`,
        listenPort: ALLOY_PORT,
        enableReporting: false,
        mounts: { varlog: false, dockercontainers: false, extra: [{ name: "alloy-data", mountPath: DATA_DIR }] },
        securityContext: {
          runAsNonRoot: true,
          runAsUser: ALLOY_USER,
          runAsGroup: ALLOY_USER,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        },
        resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } },
      },
      // Events only: the one thing this Alloy reads.
      rbac: { create: true, rules: [{ apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] }], clusterRules: [] },
      configReloader: { resources: { requests: { cpu: "5m", memory: "32Mi" }, limits: { memory: "64Mi" } } },
      // One replica is the point: two would ship every event twice. A short gap while it is rescheduled
      // is made up by the events the API still holds.
      controller: { type: "deployment", replicas: 1, volumes: { extra: [{ name: "alloy-data", emptyDir: {} }] } },
      service: { enabled: true },
      serviceMonitor: { enabled: false },
    };
    this.release({
      chart: "alloy",
      releaseName: ALLOY_EVENTS,
      values,
      containers: [
        { name: "alloy", values: "alloy.resources", replicas: 1, image: ALLOY_IMAGES.alloy },
        { name: "config-reloader", values: "configReloader.resources", replicas: 1, image: ALLOY_IMAGES.configReloader },
      ],
      freeform: [
        { path: "global.podSecurityContext", reason: "Kubernetes PodSecurityContext, empty in the chart" },
        { path: "alloy.securityContext", reason: "Kubernetes SecurityContext, empty in the chart" },
        { path: "configReloader.resources.limits", reason: "Kubernetes resource limits; the chart sets requests only" },
      ],
    });

    this.allow({ name: "push-to-loki", direction: "egress", pods: ALLOY_EVENTS_PODS, peers: [peer.ns(LOKI, LOKI_PODS)], ports: [{ port: LOKI_PORT }] });
    this.scrape({ kind: "pod", name: ALLOY_EVENTS, selector: ALLOY_EVENTS_PODS, port: "http-metrics", portNumber: ALLOY_PORT });
  }
}
