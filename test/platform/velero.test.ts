/** Backups: Velero from the pinned chart, schedules from the one backup declaration, the canary and the restore drill. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { backupPlan, cronFor, windowFor } from "../../src/backup/plan.ts";
import type { HomelabInput } from "../../src/config/schema.ts";
import { lockedDefaults } from "../../src/validate/chart-lock.ts";
import { checkHelmValues } from "../../src/validate/helm-values.ts";
import { platform } from "../../src/platform/platform.ts";
import { config, REPO, versions } from "../helpers.ts";
import { at, find, plan } from "./render-helpers.ts";

const NOTES = { name: "notes", image: "ghcr.io/me/notes", tag: "1.4.2", port: 3000, host: "notes.skypalette.ai" } as const;
const withNotes = (app: Record<string, unknown> = {}, backup: Record<string, unknown> = {}): Partial<HomelabInput> => {
  const base = config();
  return {
    apps: [...(structuredClone(base.apps) as never[]), { ...NOTES, storage: { size: "2Gi", mountPath: "/var/lib/notes" }, ...app } as never],
    backup: { ...(structuredClone(base.backup) as object), ...backup } as never,
  };
};

/** The build's Helm-values check of the velero release, against the committed chart lock. */
async function helmIssues(values: Record<string, unknown>) {
  const velero = platform(config(), versions()).components.find((c) => c.name === "velero")!;
  const found = await (await lockedDefaults(REPO, versions())).found.get("velero")!.defaults();
  return checkHelmValues({ chart: "velero", version: "12.1.0", values, defaults: found.values, ...(found.schema !== undefined ? { schema: found.schema } : {}), freeform: velero.helm!.freeform ?? [] });
}

describe("velero", () => {
  const p = plan();

  it("is its own Application after the platform's storage, from the pinned chart, its CRDs applied server-side", () => {
    const app = find(p, "Application", "velero", "argocd");
    assert.equal(app.metadata.annotations?.["argocd.argoproj.io/sync-wave"], "0");
    const src = (at(app, "spec.sources") as Record<string, unknown>[])[0]!;
    assert.deepEqual([src.chart, src.repoURL, src.targetRevision], ["velero", "https://vmware-tanzu.github.io/helm-charts", "12.1.0"]);
    assert.deepEqual(at(app, "spec.syncPolicy.syncOptions"), at(find(p, "Application", "cert-manager", "argocd"), "spec.syncPolicy.syncOptions"));
    assert.ok((at(app, "spec.syncPolicy.syncOptions") as string[]).includes("ServerSideApply=true"));
    // The node agent mounts the kubelet's pod folders: the namespace admits privileged pods, nothing else does.
    assert.equal(find(p, "Namespace", "velero").metadata.labels?.["pod-security.kubernetes.io/enforce"], "privileged");
  });

  it("sets the AWS plugin, kopia node agent, credentials from the SOPS Secret and requests/limits; every value exists in the chart", async () => {
    const values = at((at(find(p, "Application", "velero", "argocd"), "spec.sources") as unknown[])[0], "helm.valuesObject") as Record<string, any>;
    assert.deepEqual(values.initContainers.map((c: any) => [c.name, c.image, c.volumeMounts]), [
      ["velero-plugin-for-aws", "docker.io/velero/velero-plugin-for-aws:v1.14.2", [{ name: "plugins", mountPath: "/target" }]],
    ]);
    assert.equal(values.deployNodeAgent, true);
    assert.equal(values.configuration.uploaderType, "kopia");
    assert.deepEqual(values.credentials, { useSecret: true, existingSecret: "velero-s3" });
    assert.deepEqual([values.backupsEnabled, values.snapshotsEnabled, values.upgradeCRDs], [false, false, false]);
    assert.deepEqual(values.resources, { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } });
    assert.deepEqual(values.nodeAgent.resources, { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "1Gi" } });
    assert.deepEqual(values.configuration.repositoryMaintenanceJob.repositoryConfigData.global.podResources, { cpuRequest: "50m", memoryRequest: "128Mi", memoryLimit: "1Gi" });
    // The build's Helm-values check against the committed chart lock: no unknown key.
    const pl = platform(config(), versions());
    const velero = pl.components.find((c) => c.name === "velero")!;
    assert.deepEqual(await helmIssues(velero.helm!.values), []);
  });

  it("a misspelled chart value is refused by the same check", async () => {
    const velero = platform(config(), versions()).components.find((c) => c.name === "velero")!;
    const values = velero.helm!.values as Record<string, any>;
    assert.deepEqual(
      (await helmIssues({ ...values, deployNodeAgents: true, nodeAgent: { ...values.nodeAgent, resource: {} } })).map((i) => [i.path, i.message]),
      [
        ["/nodeAgent/resource", "unknown key nodeAgent.resource: the chart has no such value under nodeAgent; did you mean nodeAgent.resources?"],
        ["/deployNodeAgents", "unknown key deployNodeAgents: the chart has no such value at the top level; did you mean deployNodeAgent?"],
      ],
    );
  });

  it("renders the storage location from the config: S3-compatible endpoint, bucket, region, path style, the SOPS credential", () => {
    const bsl = find(p, "BackupStorageLocation", "default", "velero");
    assert.deepEqual(bsl.spec, {
      provider: "aws",
      default: true,
      accessMode: "ReadWrite",
      objectStorage: { bucket: "skypalette-homelab-backups", prefix: "velero" },
      credential: { name: "velero-s3", key: "cloud" },
      config: { region: "eu-central-003", s3Url: "https://s3.eu-central-003.backblazeb2.com", s3ForcePathStyle: "true", checksumAlgorithm: "" },
      validationFrequency: "1m0s",
    });
    // After the chart's CRDs, without a dry run while they are missing.
    assert.deepEqual(bsl.metadata.annotations, { "argocd.argoproj.io/sync-wave": "1", "argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true" });
    const kust = parse(readFileSync(join(REPO, "gitops/velero/kustomization.yaml"), "utf8"));
    assert.deepEqual(kust.generators, ["secret-generator.yaml"]);
    const secret = parse(readFileSync(join(REPO, "secrets/velero/velero-s3.sops.yaml"), "utf8"));
    assert.match(secret.stringData.cloud, /^ENC\[AES256_GCM,/);
    assert.equal(secret.sops.age[0].recipient, "age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr");
  });

  it("renders the default schedules: the whole cluster daily for 30 days, the canary every 6 hours for a week", () => {
    const schedules = p.objects.filter((o) => o.object.kind === "Schedule").map((o) => [o.object.metadata.name, at(o.object, "spec.schedule"), at(o.object, "spec.template")]);
    assert.deepEqual(schedules, [
      ["cluster-daily", "26 2 * * *", { includedNamespaces: ["*"], excludedNamespaces: ["backup-drill"], includeClusterResources: true, defaultVolumesToFsBackup: true, storageLocation: "default", ttl: "720h0m0s" }],
      ["backup-canary-6h", "43 */6 * * *", { includedNamespaces: ["backup-canary"], defaultVolumesToFsBackup: true, storageLocation: "default", ttl: "168h0m0s" }],
    ]);
    for (const s of p.objects.filter((o) => o.object.kind === "Schedule")) assert.equal(at(s.object, "spec.useOwnerReferencesInBackup"), false);
  });

  it("a stateful app gets its own 6-hourly schedule, a policy overrides it, and the cluster's own policy is configurable", () => {
    const names = (patch: Partial<HomelabInput>) => backupPlan(config(patch))!.schedules.map((s) => `${s.name} ${s.cron} ${s.ttl} ${s.volumes}`);
    assert.deepEqual(names(withNotes()), ["cluster-daily 26 2 * * * 720h0m0s true", "backup-canary-6h 43 */6 * * * 168h0m0s true", "notes-6h 43 */6 * * * 168h0m0s true"]);
    assert.deepEqual(
      names(withNotes({}, { cluster: { every: "weekly", ttl: "2160h" }, policies: [{ namespace: "notes", every: "hourly", ttl: "48h", excludedResources: ["secrets"] }] })),
      ["cluster-weekly 20 3 * * 0 2160h0m0s true", "backup-canary-6h 43 */6 * * * 168h0m0s true", "notes-hourly 27 * * * * 48h0m0s true"],
    );
    const notes = find(plan(withNotes({}, { policies: [{ namespace: "notes", every: "hourly", ttl: "48h", excludedResources: ["secrets"] }] })), "Schedule", "notes-hourly", "velero");
    assert.deepEqual(at(notes, "spec.template.excludedResources"), ["secrets"]);
    assert.equal(notes.metadata.annotations?.["homelab/declared-by"], "backup.policies[0]");
    // An exempt claim gets no schedule of its own.
    assert.deepEqual(names(withNotes({}, { exemptions: [{ claim: "notes/notes-data", reason: "a cache the app rebuilds on start" }] })).length, 2);
  });

  it("derives cron times and alert windows from the frequency", () => {
    assert.deepEqual(["hourly", "6h", "12h", "daily", "weekly"].map((f) => cronFor(f as never, "x")), ["0 * * * *", "0 */6 * * *", "0 */12 * * *", "0 2 * * *", "0 3 * * 0"].map((c) => c.replace(/^0/, String(cronFor("hourly", "x").split(" ")[0]))));
    assert.deepEqual(["hourly", "6h", "daily", "weekly"].map((f) => windowFor(f as never)), [7200, 25200, 90000, 608400]);
  });

  it("the restore drill: a weekly CronJob running the tested program with a narrow service account", () => {
    const cj = find(p, "CronJob", "restore-drill", "velero");
    assert.equal(at(cj, "spec.schedule"), "30 4 * * 0");
    assert.equal(at(cj, "spec.concurrencyPolicy"), "Forbid");
    const pod = at(cj, "spec.jobTemplate.spec.template.spec") as Record<string, any>;
    assert.equal(at(cj, "spec.jobTemplate.spec.backoffLimit"), 0);
    assert.deepEqual([pod.serviceAccountName, pod.automountServiceAccountToken, pod.restartPolicy], ["restore-drill", true, "Never"]);
    const c = pod.containers[0];
    assert.equal(c.image, "docker.io/library/node:22.20.0-alpine");
    assert.deepEqual(c.command, ["node", "--experimental-strip-types", "--disable-warning=ExperimentalWarning", "/drill/restore-drill.ts", "run"]);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    const env = Object.fromEntries(c.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    assert.deepEqual([env.CANARY_SCHEDULE, env.SCRATCH_NAMESPACE, env.MARKER_VALUE], ["backup-canary-6h", "backup-drill", "sky-palette backup canary: restored intact"]);
    // The ConfigMap carries the very file the tests run.
    const program = find(p, "ConfigMap", "restore-drill", "velero").data as Record<string, string>;
    assert.equal(program["restore-drill.ts"], readFileSync(join(REPO, "src/backup/restore-drill.ts"), "utf8"));
    // Least privilege: list backups, manage restores, one ConfigMap; the scratch namespace only, by name.
    assert.deepEqual(at(find(p, "Role", "restore-drill", "velero"), "rules"), [
      { apiGroups: ["velero.io"], resources: ["backups"], verbs: ["list"] },
      { apiGroups: ["velero.io"], resources: ["restores"], verbs: ["create", "get", "delete"] },
      { apiGroups: [""], resources: ["configmaps"], resourceNames: ["restore-drill-result"], verbs: ["get", "patch"] },
    ]);
    assert.deepEqual(at(find(p, "ClusterRole", "restore-drill-scratch-namespace"), "rules"), [{ apiGroups: [""], resources: ["namespaces"], resourceNames: ["backup-drill"], verbs: ["get", "delete"] }]);
    // Reading the restored canary: the canary's own Role, restored into the scratch namespace with it.
    assert.deepEqual(at(find(p, "RoleBinding", "restore-drill-reader", "backup-canary"), "subjects"), [{ kind: "ServiceAccount", name: "restore-drill", namespace: "velero" }]);
    assert.deepEqual(at(find(p, "Role", "restore-drill-reader", "backup-canary"), "rules"), [
      { apiGroups: [""], resources: ["configmaps"], resourceNames: ["canary-marker"], verbs: ["get"] },
      { apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["canary"], verbs: ["get"] },
    ]);
  });

  it("publishes the drill's result through an exporter Prometheus may reach, and Velero's metrics port", () => {
    const d = find(p, "Deployment", "restore-drill-exporter", "velero");
    const c = (at(d, "spec.template.spec.containers") as any[])[0];
    assert.deepEqual(c.command.slice(-2), ["/drill/restore-drill.ts", "serve"]);
    assert.deepEqual(c.ports, [{ name: "metrics", containerPort: 9090, protocol: "TCP" }]);
    assert.equal(at(d, "spec.template.spec.automountServiceAccountToken"), false);
    const np = (name: string) => find(p, "NetworkPolicy", `allow-${name}`, "velero").spec as Record<string, any>;
    // scrape(): a monitor each, and Prometheus admitted to exactly that port.
    assert.deepEqual(np("metrics-from-monitoring-restore-drill-exporter").ingress[0].ports, [{ protocol: "TCP", port: 9090 }]);
    assert.deepEqual(np("metrics-from-monitoring-restore-drill-exporter").podSelector, { matchLabels: { "app.kubernetes.io/name": "restore-drill-exporter" } });
    assert.deepEqual(np("metrics-from-monitoring-velero").podSelector, { matchLabels: { name: "velero" } });
    assert.deepEqual(np("metrics-from-monitoring-node-agent").ingress[0].ports, [{ protocol: "TCP", port: 8085 }]);
    const monitors = p.objects.filter((o) => o.object.metadata.namespace === "velero" && /Monitor$/.test(o.object.kind)).map((o) => `${o.object.kind} ${o.object.metadata.name}`);
    assert.deepEqual(monitors.sort(), ["PodMonitor node-agent", "PodMonitor velero", "ServiceMonitor restore-drill-exporter"]);
    for (const n of ["s3-server", "s3-node-agent", "s3-repo-maintenance"]) assert.deepEqual(np(n).egress[0].ports, [{ protocol: "TCP", port: 443 }]);
  });

  it("the canary: a marker, a volume and a pod that turns Ready only when the volume holds the marker", () => {
    const d = find(p, "Deployment", "canary", "backup-canary");
    const c = (at(d, "spec.template.spec.containers") as any[])[0];
    assert.deepEqual(c.readinessProbe.exec.command, ["cmp", "-s", "/data/marker", "/marker/marker"]);
    assert.match(c.args[0], /if \[ ! -f \/data\/marker \] && \[ "\$POD_NAMESPACE" = "backup-canary" \]; then cp \/marker\/marker \/data\/marker; fi/);
    assert.deepEqual((find(p, "ConfigMap", "canary-marker", "backup-canary").data as Record<string, string>).marker, "sky-palette backup canary: restored intact");
    assert.deepEqual(at(find(p, "PersistentVolumeClaim", "canary-data", "backup-canary"), "spec.storageClassName"), "local-path");
  });

  it("without `backup` in the config there is no Velero and no canary", () => {
    const input = config();
    const bare = { ...input, backup: undefined };
    const names = platform(bare as never, versions()).components.map((c) => c.name);
    assert.equal(names.includes("velero") || names.includes("backup-canary"), false);
  });
});

describe("stateful apps", () => {
  it("an app's storage becomes a claim on the local-path class, mounted into one pod that is recreated, not surged", () => {
    const p = plan(withNotes());
    const pvc = find(p, "PersistentVolumeClaim", "notes-data", "notes");
    assert.deepEqual(pvc.spec, { storageClassName: "local-path", accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "2Gi" } } });
    assert.equal(pvc.metadata.annotations, undefined);
    const d = find(p, "Deployment", "notes", "notes");
    assert.equal(at(d, "spec.replicas"), 1);
    assert.deepEqual(at(d, "spec.strategy"), { type: "Recreate" });
    const spec = at(d, "spec.template.spec") as any;
    assert.deepEqual(spec.volumes.at(-1), { name: "data", persistentVolumeClaim: { claimName: "notes-data" } });
    assert.deepEqual(spec.containers[0].volumeMounts.at(-1), { name: "data", mountPath: "/var/lib/notes" });
    assert.equal(spec.securityContext.fsGroup, 65532);
  });

  it("an exempt claim carries its reason, and its data stays out of the pod's file-system backups", () => {
    const p = plan(withNotes({}, { exemptions: [{ claim: "notes/notes-data", reason: "a cache the app rebuilds on start" }] }));
    assert.deepEqual(find(p, "PersistentVolumeClaim", "notes-data", "notes").metadata.annotations, { "homelab/backup-exempt": "a cache the app rebuilds on start" });
    assert.deepEqual(at(find(p, "Deployment", "notes", "notes"), "spec.template.metadata.annotations"), { "backup.velero.io/backup-volumes-excludes": "data" });
  });
});
