/** Kernel modules and sysctls Kubernetes needs on the node, as files for modules-load.d and sysctl.d. */

/** overlay for containerd's snapshotter; br_netfilter so bridged pod traffic passes iptables (kube-proxy, Calico). */
export const KERNEL_MODULES = ["overlay", "br_netfilter"] as const;

export const SYSCTLS: Readonly<Record<string, string>> = {
  // Pod traffic crossing the bridge must see iptables, or Services and NetworkPolicies are bypassed.
  "net.bridge.bridge-nf-call-iptables": "1",
  "net.bridge.bridge-nf-call-ip6tables": "1",
  // The node routes between pods, Services and the LAN.
  "net.ipv4.ip_forward": "1",
  // Log shippers and controllers watch many files; Debian's defaults run out with a few dozen pods.
  "fs.inotify.max_user_instances": "1024",
  "fs.inotify.max_user_watches": "524288",
};

export function modulesLoadFile(): string {
  return `# /etc/modules-load.d/kubernetes.conf — rendered by homelab build\n${KERNEL_MODULES.join("\n")}\n`;
}

export function sysctlFile(): string {
  const lines = Object.entries(SYSCTLS).map(([k, v]) => `${k} = ${v}`);
  return `# /etc/sysctl.d/90-kubernetes.conf — rendered by homelab build\n${lines.join("\n")}\n`;
}
