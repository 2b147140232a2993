import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Construct } from "constructs";
import { CANARY_NAMESPACE, DRILL_NAMESPACE, STORAGE_LOCATION, VELERO_NAMESPACE, type BackupPlan, type BackupSchedule } from "../../backup/plan.ts";
import { InternalError } from "../../errors.ts";
import type { K8sObject } from "../../model/k8s.ts";
import type { AlertRule, SeriesInput } from "../lib/alerts.ts";
import { Component } from "../lib/component.ts";
import { imageRef, type PlatformContext } from "../lib/context.ts";
import { peer } from "../lib/network.ts";
import { deployment, grantRole, secureContainer, service, serviceAccount } from "../lib/workload.ts";
import type { VeleroValues } from "../values/velero.ts";
import { CANARY, canaryMarker } from "./backup-canary.ts";

/** The Secret holding the S3 access key, as an AWS credentials file under the key `cloud`. */
export const S3_SECRET = "velero-s3";
const DRILL = "restore-drill";
const EXPORTER = "restore-drill-exporter";
const RESULT_CONFIGMAP = "restore-drill-result";
const EXPORTER_PORT = 9090;
/** Velero's server and node agent serve metrics on this port (`http-monitoring`). */
export const VELERO_METRICS_PORT = 8085;
const SERVER_PODS = { name: "velero" };
const NODE_AGENT_PODS = { name: "node-agent" };
/** Labels of the kopia repository maintenance Jobs Velero starts (set through the maintenance config). */
const MAINTENANCE_PODS = { "app.kubernetes.io/name": "velero-repo-maintenance" };

/** After the chart's CRDs (applied with the chart in this sync), and no dry run while they are missing. */
const AFTER_CRDS = { "argocd.argoproj.io/sync-wave": "1", "argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true" };

/**
 * Velero: backups of the cluster's objects and volumes to off-host S3-compatible storage. The chart runs the
 * server (with the AWS plugin, which speaks S3 to any compatible service) and the node agent, whose kopia
 * uploader reads pod volumes for file-system backup; the storage location and every Schedule are rendered
 * here from the backup plan, so they are validated against Velero's own CRD schemas. A weekly restore drill
 * proves that the canary's backup restores with its data, and publishes the result as metrics.
 */
export class Velero extends Component {
  constructor(scope: Construct, ctx: PlatformContext, plan: BackupPlan) {
    super(scope, VELERO_NAMESPACE, ctx, {
      wave: 0,
      layer: "platform",
      // The node agent mounts the kubelet's pod folders (hostPath) to read volumes.
      podSecurity: "privileged",
      needsApiServer: true,
      // Velero's CRDs are larger than client-side apply's annotation limit.
      syncOptions: ["ServerSideApply=true"],
    });
    const ns = this.name;
    const storage = plan.config.storage;
    const labels = this.commonLabels({ "app.kubernetes.io/name": "velero" });
    this.secret(S3_SECRET, ["cloud"]);

    const restricted = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } };
    const values: VeleroValues = {
      // The plugin container copies its binary into the server's plugin folder and exits.
      initContainers: [
        {
          name: "velero-plugin-for-aws",
          image: imageRef(ctx.versions, "velero-plugin-for-aws"),
          imagePullPolicy: "IfNotPresent",
          resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
          securityContext: restricted,
          volumeMounts: [{ name: "plugins", mountPath: "/target" }],
        },
      ],
      resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
      podSecurityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
      containerSecurityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
      // Scraped through the platform's own monitors (below), not the chart's.
      metrics: { enabled: true, serviceMonitor: { enabled: false }, nodeAgentPodMonitor: { enabled: false }, prometheusRule: { enabled: false } },
      // Argo CD applies the chart's crds/ folder itself, in this sync; the chart's kubectl Job would only repeat it.
      upgradeCRDs: false,
      configuration: {
        // Rendered below as objects, so that the build checks them against Velero's CRDs.
        backupStorageLocation: [],
        volumeSnapshotLocation: [],
        uploaderType: "kopia",
        defaultBackupStorageLocation: STORAGE_LOCATION,
        defaultBackupTTL: "720h0m0s",
        // Each Schedule says whether it takes volume data; nothing is implied.
        defaultVolumesToFsBackup: false,
        logFormat: "json",
      },
      credentials: { useSecret: true, existingSecret: S3_SECRET },
      backupsEnabled: false,
      // local volumes have no snapshot API: volume data goes through the node agent's file-system backup.
      snapshotsEnabled: false,
      deployNodeAgent: true,
      nodeAgent: {
        // It runs as root and keeps its capabilities: it reads every pod's files, whatever their owner.
        resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "1Gi" } },
      },
    };
    this.release({
      chart: "velero",
      // The plugin's init container exits after copying its binary: it holds no memory while Velero runs.
      containers: [
        // The node agent runs Velero's own image.
        { name: "velero", values: "resources", replicas: 1, image: "image" },
        { name: "node-agent", values: "nodeAgent.resources", replicas: "per-node", image: "image" },
      ],
      values: {
        ...values,
        configuration: {
          ...values.configuration,
          repositoryMaintenanceJob: {
            repositoryConfigData: {
              name: "velero-repo-maintenance",
              global: {
                keepLatestMaintenanceJobs: 3,
                podLabels: MAINTENANCE_PODS,
                podResources: { cpuRequest: "50m", memoryRequest: "128Mi", memoryLimit: "1Gi" },
              },
            },
          },
        },
      },
      freeform: [
        { path: "podSecurityContext", reason: "Kubernetes PodSecurityContext, empty by default" },
        { path: "containerSecurityContext", reason: "Kubernetes SecurityContext, empty by default" },
        { path: "initContainers", reason: "a list of Kubernetes containers, commented out in the chart's defaults" },
        { path: "configuration.repositoryMaintenanceJob.repositoryConfigData.global", reason: "Velero's maintenance job configuration (podLabels, podResources), rendered as JSON into a ConfigMap" },
      ],
    });

    const url = new URL(storage.endpoint);
    this.add({
      apiVersion: "velero.io/v1",
      kind: "BackupStorageLocation",
      metadata: { name: STORAGE_LOCATION, namespace: ns, labels, annotations: AFTER_CRDS },
      spec: {
        provider: "aws",
        default: true,
        // Turned ReadOnly during a disaster restore (docs/runbooks/velero.md), so nothing overwrites the backups.
        accessMode: "ReadWrite",
        objectStorage: { bucket: storage.bucket, prefix: storage.prefix },
        credential: { name: S3_SECRET, key: "cloud" },
        // An empty checksumAlgorithm: the AWS SDK's default CRC32 checksums are refused by many S3-compatible services.
        config: { region: storage.region, s3Url: storage.endpoint, s3ForcePathStyle: String(storage.pathStyle), checksumAlgorithm: "" },
        validationFrequency: "1m0s",
      },
    });
    for (const s of plan.schedules) this.add(schedule(ns, labels, s));

    // Velero's server, its node agents and its kopia maintenance Jobs talk to the object storage.
    const s3Port = url.port ? Number(url.port) : 443;
    for (const [name, pods] of [["s3-server", SERVER_PODS], ["s3-node-agent", NODE_AGENT_PODS], ["s3-repo-maintenance", MAINTENANCE_PODS]] as const)
      this.allow({
        name,
        direction: "egress",
        pods,
        peers: [peer.internet()],
        ports: [{ port: s3Port }],
        ...(pods === MAINTENANCE_PODS && { runtimePods: "Velero starts the kopia repository maintenance Jobs on its own schedule" }),
      });
    // Velero's backup, restore and storage-location metrics come from the server; the node agents' from each node.
    this.scrape({ kind: "pod", name: "velero", selector: SERVER_PODS, port: "http-monitoring", portNumber: VELERO_METRICS_PORT });
    this.scrape({ kind: "pod", name: "node-agent", selector: NODE_AGENT_PODS, port: "http-monitoring", portNumber: VELERO_METRICS_PORT });

    this.restoreDrill(plan, labels);
    // Two groups: promtool evaluates every rule of a group at each step of each case, so small groups test faster.
    this.alerts("backups", veleroAlerts(plan.schedules));
    this.alerts("restore-drill", RESTORE_DRILL_ALERTS);
  }

  /** The weekly drill (a CronJob with its own narrow service account) and the exporter of its result. */
  private restoreDrill(plan: BackupPlan, common: Record<string, string>): void {
    const ns = this.name;
    const ctx = this.ctx;
    const drillSelector = { "app.kubernetes.io/name": DRILL };
    const labels = { ...common, ...drillSelector };
    const image = imageRef(ctx.versions, "node");
    // The program runs as written: Node strips its types (decision 0013). The ConfigMap carries the same file the tests run.
    this.add({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: DRILL, namespace: ns, labels }, data: { "restore-drill.ts": drillSource() } });
    // Argo CD must not reset the drill's result on every sync.
    this.add({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: RESULT_CONFIGMAP, namespace: ns, labels, annotations: { "argocd.argoproj.io/sync-options": "ServerSideApply=true", "argocd.argoproj.io/compare-options": "IgnoreExtraneous" } },
      data: {},
    });

    const sa = serviceAccount(DRILL, ns, labels);
    this.add(sa);
    const drillRules = [
      { apiGroups: ["velero.io"], resources: ["backups"], verbs: ["list"] },
      // Create cannot be limited by name; get and delete are needed for the Restore it created.
      { apiGroups: ["velero.io"], resources: ["restores"], verbs: ["create", "get", "delete"] },
      { apiGroups: [""], resources: ["configmaps"], resourceNames: [RESULT_CONFIGMAP], verbs: ["get", "patch"] },
    ];
    for (const o of grantRole(DRILL, ns, labels, drillRules, { name: DRILL, namespace: ns })) this.add(o);
    // The scratch namespace only: Velero creates it during the restore, the drill deletes it afterwards.
    // Reading the restored canary is granted by the canary's own RoleBinding, restored along with it.
    this.add({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: `${DRILL}-scratch-namespace`, labels },
      rules: [{ apiGroups: [""], resources: ["namespaces"], resourceNames: [DRILL_NAMESPACE], verbs: ["get", "delete"] }],
    });
    this.add({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `${DRILL}-scratch-namespace`, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `${DRILL}-scratch-namespace` },
      subjects: [{ kind: "ServiceAccount", name: DRILL, namespace: ns }],
    });

    const env: Record<string, string> = {
      VELERO_NAMESPACE: ns,
      CANARY_NAMESPACE,
      SCRATCH_NAMESPACE: DRILL_NAMESPACE,
      CANARY_SCHEDULE: plan.canarySchedule,
      MARKER_CONFIGMAP: CANARY.configMap,
      MARKER_KEY: CANARY.key,
      MARKER_VALUE: canaryMarker(ctx.config.name),
      CANARY_DEPLOYMENT: CANARY.deployment,
      RESULT_CONFIGMAP,
      TIMEOUT_SECONDS: "900",
      POLL_SECONDS: "10",
      // The API server's certificate is signed by the cluster CA in the service account's folder.
      NODE_EXTRA_CA_CERTS: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
    };
    const node = ["node", "--experimental-strip-types", "--disable-warning=ExperimentalWarning", "/drill/restore-drill.ts"];
    const container = secureContainer({
      name: DRILL,
      image,
      ports: [],
      env,
      resources: { requests: { cpu: "20m", memory: "48Mi" }, limits: { memory: "128Mi" } },
      probe: { path: "", port: "" },
      volumeMounts: [{ name: "program", mountPath: "/drill", readOnly: true }],
    });
    for (const k of ["ports", "startupProbe", "readinessProbe", "livenessProbe"]) delete container[k];
    container.command = [...node, "run"];
    this.add({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: DRILL, namespace: ns, labels },
      spec: {
        schedule: plan.config.drill.schedule,
        concurrencyPolicy: "Forbid",
        // A drill that missed its slot by more than an hour waits for the next one; the alert notices.
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 2,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels },
          spec: {
            // A failed drill is a finding, not a flake to retry: the alert and the kept Job say so.
            backoffLimit: 0,
            activeDeadlineSeconds: 3600,
            template: {
              metadata: { labels },
              spec: {
                serviceAccountName: DRILL,
                automountServiceAccountToken: true,
                restartPolicy: "Never",
                enableServiceLinks: false,
                securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
                containers: [container],
                volumes: [{ name: "program", configMap: { name: DRILL } }],
              },
            },
          },
        },
      },
    });

    // The exporter: the stored result as metrics. It needs no API access: the result arrives as a mounted file.
    const exporterSelector = { "app.kubernetes.io/name": EXPORTER };
    const exporterLabels = { ...common, ...exporterSelector };
    this.add(serviceAccount(EXPORTER, ns, exporterLabels));
    const exporter = deployment(
      {
        name: EXPORTER,
        namespace: ns,
        labels: exporterLabels,
        selector: exporterSelector,
        preferredReplicas: 1,
        container: {
          name: EXPORTER,
          image,
          ports: [{ name: "metrics", containerPort: EXPORTER_PORT }],
          env: { PORT: String(EXPORTER_PORT), RESULT_FILE: "/result/result.json" },
          resources: { requests: { cpu: "5m", memory: "32Mi" }, limits: { memory: "96Mi" } },
          probe: { path: "/healthz", port: "metrics" },
          volumeMounts: [
            { name: "program", mountPath: "/drill", readOnly: true },
            { name: "result", mountPath: "/result", readOnly: true },
          ],
        },
        volumes: [
          { name: "program", configMap: { name: DRILL } },
          { name: "result", configMap: { name: RESULT_CONFIGMAP, optional: true } },
        ],
      },
      ctx.shape,
    );
    const spec = (exporter as unknown as { spec: Record<string, unknown> }).spec;
    spec.replicas = 1;
    const ec = (spec.template as { spec: { containers: Record<string, unknown>[] } }).spec.containers[0]!;
    ec.command = [...node, "serve"];
    this.add(exporter);
    this.add(service(EXPORTER, ns, exporterLabels, exporterSelector, [{ name: "metrics", port: EXPORTER_PORT, targetPort: "metrics" }]));
    this.scrape({ kind: "service", name: EXPORTER, selector: exporterSelector, port: "metrics", portNumber: EXPORTER_PORT });
  }
}

function schedule(namespace: string, labels: Record<string, string>, s: BackupSchedule): K8sObject {
  return {
    apiVersion: "velero.io/v1",
    kind: "Schedule",
    metadata: { name: s.name, namespace, labels, annotations: { ...AFTER_CRDS, "homelab/declared-by": s.from } },
    spec: {
      schedule: s.cron,
      // Backups outlive their Schedule: deleting a policy must not delete what it saved.
      useOwnerReferencesInBackup: false,
      template: {
        includedNamespaces: [...s.includedNamespaces],
        ...(s.excludedNamespaces.length && { excludedNamespaces: [...s.excludedNamespaces] }),
        ...(s.includedResources && { includedResources: [...s.includedResources] }),
        ...(s.excludedResources && { excludedResources: [...s.excludedResources] }),
        includeClusterResources: s.includedNamespaces.includes("*") ? true : undefined,
        defaultVolumesToFsBackup: s.volumes,
        storageLocation: STORAGE_LOCATION,
        ttl: s.ttl,
      },
    },
  };
}

/** The drill's source, read from the repository: the same file the tests import and the container runs. */
export function drillSource(): string {
  // From the sources (src/platform/components/) or from the CLI bundle (dist/, dist/chunks/).
  const candidates = ["../../backup/restore-drill.ts", "../src/backup/restore-drill.ts", "../../src/backup/restore-drill.ts"].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  const file = candidates.find((f) => existsSync(f));
  if (!file) throw new InternalError(`the restore drill's program is missing (looked for ${candidates.join(", ")})`);
  return readFileSync(file, "utf8");
}

/**
 * Backups that fail, backups that stop happening (per schedule, each within its own window), a storage
 * location Velero cannot reach, and a restore drill that failed or has not run.
 */
export function veleroAlerts(schedules: readonly BackupSchedule[]): readonly AlertRule[] {
  const daily = schedules[0]!.name;
  const last = (name: string) => `velero_backup_last_successful_timestamp{schedule="${name}"}`;
  // One rule for every schedule, each with its own window; a schedule that never succeeded counts as missing.
  const expr = schedules.map((s) => `(time() - max by (schedule) (${last(s.name)}) > ${s.windowSeconds}) or absent(${last(s.name)})`).join(" or ");
  // promtool samples every minute from time 0: a timestamp that advances with the clock is fresh; the
  // stale one says the last success was a window and an hour before the test began.
  const at = 30;
  const stale = -(schedules[0]!.windowSeconds + 3600);
  const fresh = (name: string): SeriesInput => ({ series: `velero_backup_last_successful_timestamp{schedule="${name}",job="velero"}`, values: `0+60x${at}` });
  const missing: AlertRule = {
    alert: "VeleroBackupMissing",
    expr,
    for: "15m",
    severity: "critical",
    summary: "No successful backup within the expected window",
    description: "Schedule {{ $labels.schedule }} has had no successful backup for longer than its interval plus an hour (or none at all): the data it protects is older than planned.",
    runbook: "velero",
    tests: {
      fires: {
        series: [
          { series: `velero_backup_last_successful_timestamp{schedule="${daily}",job="velero"}`, values: `${stale}x${at}` },
          ...schedules.slice(1).map((s) => fresh(s.name)),
        ],
        at: `${at}m`,
        labels: { schedule: daily },
        annotations: { description: `Schedule ${daily} has had no successful backup for longer than its interval plus an hour (or none at all): the data it protects is older than planned.` },
      },
      quiet: { series: schedules.map((s) => fresh(s.name)), at: `${at}m` },
    },
  };
  return [
    {
      alert: "VeleroBackupFailed",
      expr: "sum by (schedule) (increase(velero_backup_failure_total[1h])) > 0",
      severity: "critical",
      summary: "A backup failed",
      description: "A backup of schedule {{ $labels.schedule }} failed in the last hour: nothing of that run reached the storage.",
      runbook: "velero",
      tests: {
        fires: {
          series: [{ series: `velero_backup_failure_total{schedule="${daily}",job="velero"}`, values: "0x3 1x6" }],
          at: "40m",
          labels: { schedule: daily },
          annotations: { description: `A backup of schedule ${daily} failed in the last hour: nothing of that run reached the storage.` },
        },
        quiet: { series: [{ series: `velero_backup_failure_total{schedule="${daily}",job="velero"}`, values: "0x12" }], at: "40m" },
      },
    },
    {
      alert: "VeleroBackupPartiallyFailed",
      expr: "sum by (schedule) (increase(velero_backup_partial_failure_total[1h])) > 0",
      severity: "warning",
      summary: "A backup finished with errors",
      description: "A backup of schedule {{ $labels.schedule }} finished PartiallyFailed in the last hour: some objects or volumes are missing from it.",
      runbook: "velero",
      tests: {
        fires: {
          series: [{ series: `velero_backup_partial_failure_total{schedule="${daily}",job="velero"}`, values: "0x3 1x6" }],
          at: "40m",
          labels: { schedule: daily },
          annotations: { description: `A backup of schedule ${daily} finished PartiallyFailed in the last hour: some objects or volumes are missing from it.` },
        },
        // An hour after the partial failure the increase over the last hour is zero again.
        quiet: { series: [{ series: `velero_backup_partial_failure_total{schedule="${daily}",job="velero"}`, values: "0 1x70" }], at: "70m" },
      },
    },
    missing,
    {
      alert: "VeleroStorageLocationUnavailable",
      expr: "max by (backup_location_name) (velero_backup_location_status_gauge) == 0",
      for: "15m",
      severity: "critical",
      summary: "Velero cannot reach its backup storage",
      description: "Backup storage location {{ $labels.backup_location_name }} has been unavailable for 15 minutes: no backup can be written or read.",
      runbook: "velero",
      tests: {
        fires: {
          series: [{ series: `velero_backup_location_status_gauge{backup_location_name="${STORAGE_LOCATION}",job="velero"}`, values: "1x3 0x20" }],
          at: "25m",
          labels: { backup_location_name: STORAGE_LOCATION },
          annotations: { description: `Backup storage location ${STORAGE_LOCATION} has been unavailable for 15 minutes: no backup can be written or read.` },
        },
        // A validation that fails once and recovers within minutes stays quiet.
        quiet: { series: [{ series: `velero_backup_location_status_gauge{backup_location_name="${STORAGE_LOCATION}",job="velero"}`, values: "1x3 0x5 1x15" }], at: "25m" },
      },
    },
  ];
}

/** A drill that failed, or none lately: nothing has proved that the backups restore. */
export const RESTORE_DRILL_ALERTS: readonly AlertRule[] = [
  {
    alert: "RestoreDrillFailed",
    expr: "max(homelab_restore_drill_success) == 0",
    severity: "critical",
    summary: "The last restore drill failed",
    description: "The weekly restore drill could not restore the canary with its data: backups may not be restorable. `kubectl -n velero logs job/<the failed restore-drill job>` says at which stage.",
    runbook: "velero",
    tests: {
      fires: { series: [{ series: 'homelab_restore_drill_success{job="restore-drill-exporter"}', values: "1x3 0x40" }], at: "40m", labels: {} },
      quiet: { series: [{ series: 'homelab_restore_drill_success{job="restore-drill-exporter"}', values: "1x12" }], at: "40m" },
    },
  },
  {
    alert: "RestoreDrillNotRunRecently",
    // Weekly drills: eight days gives a missed run a day's grace. Never having run counts too.
    expr: "(time() - max(homelab_restore_drill_last_run_timestamp_seconds)) > 8 * 86400 or (max(homelab_restore_drill_result_present) == 0)",
    // Half an hour, not a day: after a fresh installation a first drill by hand is the point (runbook).
    for: "30m",
    severity: "warning",
    summary: "No restore drill in the last 8 days",
    description: "The restore drill has not run for more than 8 days (or never): nothing has proved lately that the backups restore.",
    runbook: "velero",
    tests: {
      fires: { series: [{ series: 'homelab_restore_drill_result_present{job="restore-drill-exporter"}', values: "0x45" }], at: "40m", labels: {} },
      quiet: {
        series: [
          { series: 'homelab_restore_drill_result_present{job="restore-drill-exporter"}', values: "1x45" },
          // The last drill finished seven days before the test began.
          { series: 'homelab_restore_drill_last_run_timestamp_seconds{job="restore-drill-exporter"}', values: "-604800x45" },
        ],
        at: "40m",
      },
    },
  },
];
