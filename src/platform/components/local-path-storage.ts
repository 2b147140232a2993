import type { Construct } from "constructs";
import { stringify } from "yaml";
import { POLICY_ANNOTATIONS } from "../../policy/annotations.ts";
import type { AlertRule } from "../lib/alerts.ts";
import { Component } from "../lib/component.ts";
import { newDashboard, prom, RowBuilder, timeseries, withItems } from "../lib/dashboards.ts";
import { imageRef, type PlatformContext } from "../lib/context.ts";
import { deployment, grantRole, NONROOT_UID } from "../lib/workload.ts";

export interface LocalPathStorageProps {
  /**
   * Folder on each node under which volumes are created; it must sit on the disk that has the space.
   * @default "/var/lib/homelab/volumes"
   */
  readonly path?: string;
}

/** The StorageClass every PersistentVolumeClaim of the homelab uses (it is the cluster's default). */
export const STORAGE_CLASS = "local-path";
export const DEFAULT_VOLUME_PATH = "/var/lib/homelab/volumes";
const NAME = "local-path-provisioner";
const PODS = { "app.kubernetes.io/name": NAME };

/**
 * Persistent volumes on the node's own disk, created on demand by Rancher's local path provisioner
 * (docs/decisions/0003-local-path-volumes.md). Volumes are of the `local` type, not `hostPath`: Velero's
 * file-system backup reads `local` volumes and cannot read `hostPath` ones, and a `local` volume carries
 * the node affinity that keeps its pod on the node that holds the data when the cluster grows.
 */
export class LocalPathStorage extends Component {
  constructor(scope: Construct, ctx: PlatformContext, props: LocalPathStorageProps = {}) {
    // The helper pods that make and remove a volume's folder mount the node's folder: the namespace
    // admits privileged pods, and only the provisioner can create pods in it.
    super(scope, "local-path-storage", ctx, { wave: -5, layer: "platform", podSecurity: "privileged", needsApiServer: true });
    const ns = this.name;
    const path = props.path ?? DEFAULT_VOLUME_PATH;
    const labels = this.commonLabels({ ...PODS, "app.kubernetes.io/component": "provisioner" });
    this.dashboard(storageDashboard(path));

    this.add({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: {
        name: STORAGE_CLASS,
        labels,
        annotations: { "storageclass.kubernetes.io/is-default-class": "true", defaultVolumeType: "local" },
      },
      provisioner: "rancher.io/local-path",
      // A local volume lives on one node: bind it only once the pod is scheduled there.
      volumeBindingMode: "WaitForFirstConsumer",
      // A deleted claim (an Argo CD prune, a typo) leaves its data on disk until someone removes it on purpose.
      reclaimPolicy: "Retain",
    });

    const config = {
      nodePathMap: [{ node: "DEFAULT_PATH_FOR_NON_LISTED_NODES", paths: [path] }],
    };
    const helperPod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "helper-pod" },
      spec: {
        priorityClassName: "system-node-critical",
        tolerations: [{ key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" }],
        containers: [
          {
            name: "helper-pod",
            image: imageRef(ctx.versions, "busybox"),
            imagePullPolicy: "IfNotPresent",
            resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
          },
        ],
      },
    };
    this.add({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "local-path-config", namespace: ns, labels },
      data: {
        "config.json": JSON.stringify(config, null, 2),
        // The provisioner runs these in a helper pod on the volume's node, with VOL_DIR set.
        setup: '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
        teardown: '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
        "helperPod.yaml": stringify(helperPod),
      },
    });

    this.add({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: NAME, namespace: ns, labels } });
    this.add({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: NAME, labels },
      rules: [
        { apiGroups: [""], resources: ["nodes", "persistentvolumeclaims", "configmaps", "pods", "pods/log"], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["persistentvolumes"], verbs: ["get", "list", "watch", "create", "patch", "update", "delete"] },
        { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
        { apiGroups: ["storage.k8s.io"], resources: ["storageclasses"], verbs: ["get", "list", "watch"] },
      ],
    });
    this.add({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: NAME, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: NAME },
      subjects: [{ kind: "ServiceAccount", name: NAME, namespace: ns }],
    });
    // Helper pods only in its own namespace.
    const podRules = [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "create", "patch", "update", "delete"] }];
    for (const o of grantRole(NAME, ns, labels, podRules, { name: NAME, namespace: ns })) this.add(o);

    const workload = deployment(
      {
        name: NAME,
        namespace: ns,
        labels,
        selector: PODS,
        preferredReplicas: 1,
        container: {
          name: NAME,
          image: imageRef(ctx.versions, "local-path-provisioner"),
          args: ["--debug=false", "start", "--config", "/etc/config/config.json", "--service-account-name", NAME, "--provisioner-name", "rancher.io/local-path", "--helper-image", imageRef(ctx.versions, "busybox"), "--configmap-name", "local-path-config"],
          ports: [],
          env: { POD_NAMESPACE: ns, CONFIG_MOUNT_PATH: "/etc/config/" },
          resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
          probe: { path: "", port: "" },
          volumeMounts: [{ name: "config", mountPath: "/etc/config/", readOnly: true }],
        },
        volumes: [{ name: "config", configMap: { name: "local-path-config" } }],
      },
      ctx.shape,
    );
    // It talks to the API server and serves nothing: no port to probe or scrape. The probes check that
    // its process still reads its mounted config; a hung watch shows as claims stuck in Pending.
    // One provisioner for every node, whatever the shape: it runs without leader election, so a second
    // replica (or a surge pod during a rollout) would race it for the same claims. While it is down only
    // new claims wait; existing volumes keep working.
    const top = (workload as unknown as { spec: Record<string, unknown> }).spec;
    top.replicas = 1;
    top.strategy = { type: "Recreate" };
    const spec = (workload as unknown as { spec: { template: { metadata: { annotations?: Record<string, string> }; spec: Record<string, unknown> } } }).spec.template;
    spec.spec.automountServiceAccountToken = true;
    spec.spec.securityContext = { ...(spec.spec.securityContext as object), runAsUser: NONROOT_UID };
    const container = (spec.spec.containers as Record<string, unknown>[])[0]!;
    delete container.ports;
    delete container.startupProbe;
    const exec = { exec: { command: ["cat", "/etc/config/config.json"] }, periodSeconds: 20, timeoutSeconds: 2, failureThreshold: 3 };
    container.livenessProbe = exec;
    container.readinessProbe = { ...exec, periodSeconds: 10 };
    (workload.metadata as { annotations?: Record<string, string> }).annotations = {
      [POLICY_ANNOTATIONS.scrapeExempt]: "the local path provisioner exposes no metrics; volume usage comes from the kubelet's volume stats",
    };
    this.add(workload);
  }
}

const CLAIM = 'namespace="monitoring",persistentvolumeclaim="prometheus-db"';

/**
 * A claim that stays Pending is how a stuck provisioner (or a missing volume folder) shows; a volume
 * filling up is the disk filling up, since every `local` volume shares the node's disk.
 */
export const STORAGE_ALERTS: readonly AlertRule[] = [
  {
    alert: "PersistentVolumeClaimPending",
    expr: 'max by (namespace, persistentvolumeclaim) (kube_persistentvolumeclaim_status_phase{phase="Pending"}) == 1',
    for: "15m",
    severity: "warning",
    summary: "A volume claim is not bound",
    description: "Claim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has been Pending for 15 minutes: its pod cannot start.",
    runbook: "storage",
    tests: {
      fires: {
        series: [
          { series: `kube_persistentvolumeclaim_status_phase{${CLAIM},phase="Pending"}`, values: "1x30" },
          { series: `kube_persistentvolumeclaim_status_phase{${CLAIM},phase="Bound"}`, values: "0x30" },
        ],
        at: "20m",
        labels: { namespace: "monitoring", persistentvolumeclaim: "prometheus-db" },
        annotations: { description: "Claim monitoring/prometheus-db has been Pending for 15 minutes: its pod cannot start." },
      },
      // Bound within a few minutes, as WaitForFirstConsumer claims are once their pod is scheduled.
      quiet: {
        series: [
          { series: `kube_persistentvolumeclaim_status_phase{${CLAIM},phase="Pending"}`, values: "1x3 0x27" },
          { series: `kube_persistentvolumeclaim_status_phase{${CLAIM},phase="Bound"}`, values: "0x3 1x27" },
        ],
        at: "20m",
      },
    },
  },
  {
    alert: "PersistentVolumeFillingUp",
    expr: "max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes) < 0.10",
    for: "15m",
    severity: "critical",
    summary: "A volume has less than 10% free",
    description: "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has less than 10% of its space left; local volumes share the node's disk.",
    runbook: "storage",
    tests: {
      fires: {
        series: [
          { series: `kubelet_volume_stats_available_bytes{${CLAIM},node="k8s-worker-3090"}`, values: "5e9x30" },
          { series: `kubelet_volume_stats_capacity_bytes{${CLAIM},node="k8s-worker-3090"}`, values: "100e9x30" },
        ],
        at: "20m",
        labels: { namespace: "monitoring", persistentvolumeclaim: "prometheus-db" },
        annotations: { description: "Volume monitoring/prometheus-db has less than 10% of its space left; local volumes share the node's disk." },
      },
      quiet: {
        series: [
          { series: `kubelet_volume_stats_available_bytes{${CLAIM},node="k8s-worker-3090"}`, values: "40e9x30" },
          { series: `kubelet_volume_stats_capacity_bytes{${CLAIM},node="k8s-worker-3090"}`, values: "100e9x30" },
        ],
        at: "20m",
      },
    },
  },
];

/** Volumes and the disk they share: each claim's use, the node's free space, claims by phase. */
export function storageDashboard(volumePath: string) {
  return withItems(newDashboard("homelab-storage", "Storage", "local-path-storage"), [
    new RowBuilder("Volumes"),
    timeseries("Used, by claim", "percentunit", [prom("max by (namespace, persistentvolumeclaim) (1 - kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes)", "{{namespace}}/{{persistentvolumeclaim}}")], 12),
    timeseries("Claims, by phase", "short", [prom("sum by (phase) (kube_persistentvolumeclaim_status_phase)", "{{phase}}")], 12),
    new RowBuilder(`The node's disk (${volumePath})`),
    timeseries("Free space, by mount", "bytes", [prom('node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs"}', "{{instance}} {{mountpoint}}")], 24),
  ]);
}
