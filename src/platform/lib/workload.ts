/**
 * Secure defaults for workloads we write ourselves (apps, cloudflared): non-root, read-only root filesystem,
 * all capabilities dropped, RuntimeDefault seccomp, no service account token, and the HA shape applied.
 */
import type { K8sObject } from "../../model/k8s.ts";
import type { Shape } from "./topology.ts";

export interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  readonly args?: readonly string[];
  readonly ports: readonly { name: string; containerPort: number }[];
  readonly env?: Record<string, string>;
  /** Environment variables taken from a Secret key. */
  readonly secretEnv?: readonly { readonly name: string; readonly secret: string; readonly key: string }[];
  readonly resources: { requests: { cpu: string; memory: string }; limits: { memory: string; cpu?: string } };
  /** HTTP probe: path and port name; `readyPath` for the readiness probe alone. @default readyPath: path */
  readonly probe: { path: string; port: string; readyPath?: string };
  readonly volumeMounts?: readonly { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
}

export interface WorkloadProps {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly selector: Record<string, string>;
  /** Replicas the workload would like on a multi-node cluster. */
  readonly preferredReplicas: number;
  readonly container: ContainerSpec;
  readonly volumes?: readonly Record<string, unknown>[];
  readonly podAnnotations?: Record<string, string>;
  /** Annotations of the workload object itself (e.g. a policy exemption with its reason). */
  readonly annotations?: Record<string, string>;
  /** UID the process runs as. @default 65532 */
  readonly uid?: number;
}

export const NONROOT_UID = 65532;

export function secureContainer(c: ContainerSpec): Record<string, unknown> {
  const env: { name: string; value?: string; valueFrom?: unknown }[] = [
    ...Object.entries(c.env ?? {}).map(([name, value]) => ({ name, value })),
    ...(c.secretEnv ?? []).map((e) => ({ name: e.name, valueFrom: { secretKeyRef: { name: e.secret, key: e.key } } })),
  ].sort((a, b) => a.name.localeCompare(b.name));
  const probe = (failureThreshold: number, periodSeconds: number, path = c.probe.path) => ({
    httpGet: { path, port: c.probe.port },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold,
  });
  return {
    name: c.name,
    image: c.image,
    imagePullPolicy: "IfNotPresent",
    ...(c.args ? { args: [...c.args] } : {}),
    ports: c.ports.map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: "TCP" })),
    ...(env.length ? { env } : {}),
    resources: c.resources,
    startupProbe: probe(30, 2),
    readinessProbe: probe(3, 10, c.probe.readyPath ?? c.probe.path),
    livenessProbe: probe(3, 20),
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    ...(c.volumeMounts ? { volumeMounts: c.volumeMounts.map((m) => ({ ...m })) } : {}),
  };
}

export function deployment(p: WorkloadProps, shape: Shape): K8sObject {
  const uid = p.uid ?? NONROOT_UID;
  const affinity = shape.affinity(p.selector);
  const spread = shape.spread(p.selector);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: p.name, namespace: p.namespace, labels: p.labels, ...(p.annotations ? { annotations: p.annotations } : {}) },
    spec: {
      replicas: shape.replicas(p.preferredReplicas),
      revisionHistoryLimit: 3,
      selector: { matchLabels: p.selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { ...p.labels, ...p.selector }, ...(p.podAnnotations ? { annotations: p.podAnnotations } : {}) },
        spec: {
          serviceAccountName: p.name,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: uid,
            runAsGroup: uid,
            fsGroup: uid,
            seccompProfile: { type: "RuntimeDefault" },
          },
          terminationGracePeriodSeconds: 30,
          containers: [secureContainer(p.container)],
          ...(p.volumes ? { volumes: p.volumes.map((v) => ({ ...v })) } : {}),
          ...(affinity ? { affinity } : {}),
          ...(spread.length ? { topologySpreadConstraints: spread } : {}),
        },
      },
    },
  };
}

export function serviceAccount(name: string, namespace: string, labels: Record<string, string>): K8sObject {
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace, labels }, automountServiceAccountToken: false };
}

/** A Role in `namespace` and the RoleBinding of the same name that grants it to one ServiceAccount (of any namespace). */
export function grantRole(
  name: string,
  namespace: string,
  labels: Record<string, string>,
  rules: readonly Record<string, unknown>[],
  account: { readonly name: string; readonly namespace: string },
): [K8sObject, K8sObject] {
  return [
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name, namespace, labels }, rules },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name, namespace, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name: account.name, namespace: account.namespace }],
    },
  ];
}

export function pdb(name: string, namespace: string, labels: Record<string, string>, selector: Record<string, string>, shape: Shape): K8sObject {
  return { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name, namespace, labels }, spec: shape.pdb(selector) };
}

export function service(
  name: string,
  namespace: string,
  labels: Record<string, string>,
  selector: Record<string, string>,
  ports: readonly { name: string; port: number; targetPort: string }[],
): K8sObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace, labels },
    spec: { type: "ClusterIP", selector, ports: ports.map((p) => ({ ...p, protocol: "TCP" })) },
  };
}
