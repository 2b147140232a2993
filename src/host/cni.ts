/**
 * The CNI: Calico through its operator (decision 0011). It enforces NetworkPolicy, which the platform's
 * deny-by-default depends on, on one kubeadm node without a mesh, and its iptables data plane runs beside
 * kube-proxy instead of replacing it (the monitoring stack scrapes kube-proxy).
 */
import type { HomelabConfig, Versions } from "../config/schema.ts";

/** The operator manifest of the pinned Calico release; the bootstrap applies it before the Installation. */
export function calicoOperatorUrl(versions: Versions): string {
  const tag = versions.images["calico"]?.tag;
  if (!tag) throw new Error("versions.yaml: images.calico is missing");
  return `https://raw.githubusercontent.com/projectcalico/calico/${tag}/manifests/tigera-operator.yaml`;
}

export function calicoInstallation(config: HomelabConfig): Record<string, unknown>[] {
  return [
    {
      apiVersion: "operator.tigera.io/v1",
      kind: "Installation",
      metadata: { name: "default" },
      spec: {
        calicoNetwork: {
          // iptables, not eBPF: the eBPF data plane would take over kube-proxy's job.
          linuxDataplane: "Iptables",
          bgp: "Disabled",
          ipPools: [
            {
              name: "default-ipv4-ippool",
              cidr: config.network.podCIDR,
              encapsulation: "VXLAN",
              natOutgoing: "Enabled",
              nodeSelector: "all()",
            },
          ],
        },
      },
    },
    { apiVersion: "operator.tigera.io/v1", kind: "APIServer", metadata: { name: "default" }, spec: {} },
  ];
}
