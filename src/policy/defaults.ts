import type { HostAccessAllowance, RbacAllowance } from "./types.ts";

/**
 * The homelab's own node agents, whose job is to look at the host: exact `Kind namespace/name`,
 * exactly the host paths (read-only), namespaces and ports each one uses, under the names their
 * components give them (`fullnameOverride`). node-exporter has a namespace of its own (the
 * kube-prometheus-stack subchart's namespaceOverride), the only one at Pod Security `privileged` for it,
 * so `monitoring` stays `restricted`. Applied with the homelab model only; foreign manifests get no
 * allowance unless one is given.
 */
export const DEFAULT_HOST_PATH_ALLOWLIST: readonly HostAccessAllowance[] = [
  {
    object: "DaemonSet node-exporter/node-exporter",
    reason: "node-exporter reports the node's own CPU, memory, disk and network: it reads /proc, /sys and the root filesystem, sees the host's processes and network interfaces, and serves its metrics on the node's port 9100",
    paths: ["/proc", "/sys", "/"],
    readOnly: true,
    namespaces: ["network", "pid"],
    ports: [9100],
  },
  {
    object: "DaemonSet alloy/alloy",
    reason: "Alloy tails the container logs the kubelet writes under /var/log/pods on the node and ships them to Loki",
    paths: ["/var/log/pods"],
    readOnly: true,
  },
  {
    object: "DaemonSet alloy/alloy",
    reason: "Alloy keeps its read positions in /var/lib/alloy on the node, so a replaced pod resumes each log file where the last one stopped instead of sending it again",
    paths: ["/var/lib/alloy"],
  },
];

/** Controllers whose purpose needs broad RBAC, by the exact names their pinned charts give them. */
export const DEFAULT_RBAC_ALLOWLIST: readonly RbacAllowance[] = [
  {
    object: "ClusterRole argocd-application-controller",
    reason: "Argo CD applies whatever Git declares, so its controller must be able to manage every kind",
  },
  {
    object: "ClusterRole argocd-server",
    reason: "the Argo CD UI/API shows, deletes and patches live objects of every kind for the Applications it manages",
  },
  {
    object: "Role local-path-storage/local-path-provisioner",
    reason: "the local path provisioner starts a helper pod on the volume's node to create and remove the volume's folder; the Role is limited to its own namespace, where nothing else runs and no Secret lives",
  },
  {
    object: "ClusterRoleBinding velero-server",
    reason: "Velero backs up and restores every kind of object, which its chart grants through cluster-admin",
  },
];

/**
 * The homelab's own operators: their pods call the API server by design, so they keep their token.
 * In the rendered tree their RBAC is rendered by Argo CD from the chart, out of this input's sight;
 * checking a chart's `helm template` output, the chart's own bindings show it anyway.
 */
export const DEFAULT_API_CLIENT_ALLOWLIST: readonly RbacAllowance[] = [
  { object: "StatefulSet argocd/argocd-application-controller", reason: "Argo CD's controller applies and watches every object it manages" },
  { object: "Deployment argocd/argocd-*", reason: "Argo CD's server, repo-server and ApplicationSet controller read Applications and cluster state" },
  { object: "Deployment cert-manager/cert-manager*", reason: "cert-manager's controller, webhook and CA injector watch Certificates and write Secrets" },
  { object: "Deployment ingress-nginx/ingress-nginx-controller", reason: "the ingress controller watches Ingresses, Services and EndpointSlices" },
  { object: "Deployment monitoring/*-operator", reason: "the Prometheus operator turns ServiceMonitors and rules into Prometheus configuration" },
  { object: "StatefulSet monitoring/prometheus-*", reason: "Prometheus discovers its scrape targets through the API" },
  { object: "DaemonSet alloy/alloy", reason: "Alloy discovers the pods whose logs it ships and reads the cluster's events through the API" },
  { object: "Deployment alloy-events/alloy-events", reason: "with several nodes, this one Alloy reads the cluster's events through the API (the per-node ones do not)" },
  { object: "Deployment velero/velero", reason: "Velero reads every object it backs up and recreates them on restore" },
];
