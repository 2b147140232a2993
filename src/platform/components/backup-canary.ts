import type { Construct } from "constructs";
import { CANARY_NAMESPACE, VELERO_NAMESPACE } from "../../backup/plan.ts";
import { POLICY_ANNOTATIONS } from "../../policy/annotations.ts";
import { Component } from "../lib/component.ts";
import { imageRef, type PlatformContext } from "../lib/context.ts";
import { deployment, grantRole, pdb, serviceAccount } from "../lib/workload.ts";
import { STORAGE_CLASS } from "./local-path-storage.ts";

/** What the restore drill looks for; the same text is in the ConfigMap and, once written, on the volume. */
export const CANARY = {
  configMap: "canary-marker",
  key: "marker",
  deployment: "canary",
  claim: "canary-data",
  /** The drill's service account, in Velero's namespace, that may read the canary's restored copy. */
  drillServiceAccount: "restore-drill",
} as const;

export function canaryMarker(homelab: string): string {
  return `${homelab} backup canary: restored intact`;
}

/**
 * A tiny app with data to lose, for the restore drill: a marker ConfigMap, a volume and a pod that copies
 * the marker onto the volume once, in its own namespace only. Its readiness probe compares the file on the
 * volume with the marker, so a copy restored elsewhere (the drill's scratch namespace) turns Ready only when
 * the volume's data came back. A Role lets the drill read exactly the marker and the Deployment; it is
 * restored along with the rest, so the drill can read the scratch copy without any wider permission.
 */
export class BackupCanary extends Component {
  constructor(scope: Construct, ctx: PlatformContext) {
    super(scope, CANARY_NAMESPACE, ctx, { wave: 1, layer: "apps" });
    const ns = this.name;
    const selector = { "app.kubernetes.io/name": CANARY.deployment };
    const labels = this.commonLabels({ ...selector, "app.kubernetes.io/component": "backup-canary" });
    const marker = canaryMarker(ctx.config.name);

    this.add({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: CANARY.configMap, namespace: ns, labels }, data: { [CANARY.key]: marker } });
    this.add({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: CANARY.claim, namespace: ns, labels },
      spec: { storageClassName: STORAGE_CLASS, accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "16Mi" } } },
    });
    this.add(serviceAccount(CANARY.deployment, ns, labels));
    const workload = deployment(
      {
        name: CANARY.deployment,
        namespace: ns,
        labels,
        selector,
        preferredReplicas: 1,
        container: {
          name: "canary",
          image: imageRef(ctx.versions, "busybox"),
          ports: [],
          resources: { requests: { cpu: "5m", memory: "8Mi" }, limits: { memory: "32Mi" } },
          probe: { path: "", port: "" },
          volumeMounts: [
            { name: "data", mountPath: "/data" },
            { name: "marker", mountPath: "/marker", readOnly: true },
          ],
        },
        volumes: [
          { name: "data", persistentVolumeClaim: { claimName: CANARY.claim } },
          { name: "marker", configMap: { name: CANARY.configMap } },
        ],
      },
      ctx.shape,
    );
    const spec = (workload as unknown as { spec: Record<string, unknown> }).spec;
    spec.replicas = 1;
    spec.strategy = { type: "Recreate" };
    const pod = (spec.template as { spec: { containers: Record<string, unknown>[] } }).spec;
    const c = pod.containers[0]!;
    // Writes the marker only in its home namespace and only once: a restored copy must bring its own file.
    c.command = ["/bin/sh", "-c"];
    c.args = [
      [
        "set -eu",
        `if [ ! -f /data/${CANARY.key} ] && [ "$POD_NAMESPACE" = "${ns}" ]; then cp /marker/${CANARY.key} /data/${CANARY.key}; fi`,
        "trap 'exit 0' TERM",
        "while :; do sleep 3600 & wait $!; done",
      ].join("\n"),
    ];
    c.env = [{ name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } }];
    delete c.ports;
    delete c.startupProbe;
    c.readinessProbe = { exec: { command: ["cmp", "-s", `/data/${CANARY.key}`, `/marker/${CANARY.key}`] }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 };
    c.livenessProbe = { exec: { command: ["test", "-d", "/data"] }, periodSeconds: 60, timeoutSeconds: 2, failureThreshold: 3 };
    (workload.metadata as { annotations?: Record<string, string> }).annotations = {
      [POLICY_ANNOTATIONS.scrapeExempt]: "the backup canary serves nothing; the restore drill's exporter reports on it",
    };
    this.add(workload);
    this.add(pdb(CANARY.deployment, ns, labels, selector, ctx.shape));

    const readRules = [
      { apiGroups: [""], resources: ["configmaps"], resourceNames: [CANARY.configMap], verbs: ["get"] },
      { apiGroups: ["apps"], resources: ["deployments"], resourceNames: [CANARY.deployment], verbs: ["get"] },
    ];
    for (const o of grantRole("restore-drill-reader", ns, labels, readRules, { name: CANARY.drillServiceAccount, namespace: VELERO_NAMESPACE })) this.add(o);
  }
}
