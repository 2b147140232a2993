/**
 * kubeadm's configuration for a node: InitConfiguration and ClusterConfiguration (first control-plane node),
 * KubeletConfiguration and KubeProxyConfiguration, as one multi-document file for `kubeadm init --config`.
 *
 * Where the control plane serves its metrics comes from src/cluster/control-plane.ts, which the monitoring
 * stack scrapes too: the values live only there.
 */
import { CONTROL_PLANE_METRICS } from "../cluster/control-plane.ts";
import type { HomelabConfig, NodeConfig } from "../config/schema.ts";

/** containerd's CRI socket (Debian's containerd package). */
export const CRI_SOCKET = "unix:///run/containerd/containerd.sock";
export const API_SERVER_PORT = 6443;

/**
 * What the kubelet keeps back for the operating system, Docker's Compose stack and itself on a small box,
 * so pods are evicted before the node runs out of memory.
 */
export const KUBELET_RESERVED = {
  systemReserved: { cpu: "500m", memory: "1536Mi", "ephemeral-storage": "2Gi" },
  kubeReserved: { cpu: "250m", memory: "512Mi", "ephemeral-storage": "1Gi" },
  evictionHard: { "memory.available": "300Mi", "nodefs.available": "10%", "nodefs.inodesFree": "5%", "imagefs.available": "10%" },
} as const;

/** Image garbage collection: start at 75 % disk use, free down to 65 %, drop images unused for a week. */
export const IMAGE_GC = { high: 75, low: 65, maxAge: "168h" } as const;

const arg = (name: string, value: string) => ({ name, value });

/** The node kubeadm initialises the cluster on. */
export function firstControlPlane(config: HomelabConfig): NodeConfig {
  return config.nodes.find((n) => n.roles.includes("control-plane"))!;
}

/**
 * The kubeadm documents for one node. Only the first control-plane node gets Init/ClusterConfiguration;
 * the kubelet and kube-proxy configuration are the cluster's and are the same for every node.
 */
export function kubeadmDocuments(config: HomelabConfig, node: NodeConfig): Record<string, unknown>[] {
  const first = firstControlPlane(config);
  const single = config.nodes.length === 1;
  const cp = CONTROL_PLANE_METRICS;
  const docs: Record<string, unknown>[] = [];
  if (node.name === first.name) {
    docs.push({
      apiVersion: "kubeadm.k8s.io/v1beta4",
      kind: "InitConfiguration",
      localAPIEndpoint: { advertiseAddress: node.address, bindPort: API_SERVER_PORT },
      nodeRegistration: {
        name: node.name,
        criSocket: CRI_SOCKET,
        // One node runs everything: no control-plane taint. With more nodes kubeadm's default taint stays.
        ...(single || node.roles.includes("worker") ? { taints: [] } : {}),
        kubeletExtraArgs: [arg("node-ip", node.address)],
      },
    });
    docs.push({
      apiVersion: "kubeadm.k8s.io/v1beta4",
      kind: "ClusterConfiguration",
      clusterName: config.name,
      // kubeadm resolves the label to the newest patch release of the minor the config names, falling back
      // to its own version offline; the packages come from the same minor's repository.
      kubernetesVersion: `stable-${config.kubernetesVersion}`,
      controlPlaneEndpoint: `${first.address}:${API_SERVER_PORT}`,
      networking: { podSubnet: config.network.podCIDR, serviceSubnet: config.network.serviceCIDR, dnsDomain: "cluster.local" },
      controllerManager: { extraArgs: [arg("bind-address", cp.controllerManager.bindAddress)] },
      scheduler: { extraArgs: [arg("bind-address", cp.scheduler.bindAddress)] },
      etcd: { local: { extraArgs: [arg("listen-metrics-urls", cp.etcd.listenMetricsUrls)] } },
    });
  }
  docs.push({
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    cgroupDriver: "systemd",
    containerRuntimeEndpoint: CRI_SOCKET,
    systemReserved: { ...KUBELET_RESERVED.systemReserved },
    kubeReserved: { ...KUBELET_RESERVED.kubeReserved },
    evictionHard: { ...KUBELET_RESERVED.evictionHard },
    imageGCHighThresholdPercent: IMAGE_GC.high,
    imageGCLowThresholdPercent: IMAGE_GC.low,
    imageMaximumGCAge: IMAGE_GC.maxAge,
    containerLogMaxSize: "10Mi",
    containerLogMaxFiles: 3,
    // Swap stays off (the bootstrap turns it off); the kubelet refuses to start otherwise.
    failSwapOn: true,
    serverTLSBootstrap: false,
  });
  docs.push({
    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
    kind: "KubeProxyConfiguration",
    // Calico runs its iptables data plane beside kube-proxy (decision 0011): kube-proxy stays.
    mode: "iptables",
    clusterCIDR: config.network.podCIDR,
    metricsBindAddress: cp.kubeProxy.metricsBindAddress,
  });
  return docs;
}
