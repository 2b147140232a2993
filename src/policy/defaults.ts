import type { HostAccessAllowance, RbacAllowance } from "./types.ts";

/**
 * Node agents whose job is to look at the host. Object patterns cover the names the upstream charts
 * give them under any release name.
 */
export const DEFAULT_HOST_PATH_ALLOWLIST: readonly HostAccessAllowance[] = [
  {
    object: "DaemonSet *node-exporter",
    reason: "node-exporter reports the node's own CPU, memory, disk and network, read from the host's /proc, /sys and root filesystem",
    paths: ["/proc", "/sys", "/"],
    namespaces: ["network", "pid"],
  },
  {
    object: "DaemonSet *alloy",
    reason: "Alloy tails the container logs the kubelet writes under /var/log on the node and ships them to Loki",
    paths: ["/var/log"],
  },
];

/** Controllers whose purpose needs broad RBAC. */
export const DEFAULT_RBAC_ALLOWLIST: readonly RbacAllowance[] = [
  {
    object: "ClusterRole *argocd-application-controller",
    reason: "Argo CD applies whatever Git declares, so its controller must be able to manage every kind",
  },
  {
    object: "ClusterRole *argocd-server",
    reason: "the Argo CD UI/API shows, deletes and patches live objects of every kind for the Applications it manages",
  },
  {
    object: "ClusterRoleBinding *velero*",
    reason: "Velero backs up and restores every kind of object, which its chart grants through cluster-admin",
  },
];
