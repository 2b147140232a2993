/**
 * Where the kubeadm node serves the control plane's metrics. The host layer renders kubeadm's and
 * kube-proxy's configuration from these, and the monitoring stack scrapes the same addresses, so the two
 * can never disagree (a mismatch shows up as a permanent "…Down" alert).
 *
 * kubeadm binds the controller manager, the scheduler and etcd's metrics to 127.0.0.1 by default, and
 * kube-proxy's to 127.0.0.1:10249; Prometheus runs in a pod and cannot reach the node's loopback.
 */
export const CONTROL_PLANE_METRICS = {
  /** kube-controller-manager: HTTPS, authenticated and authorized by the API server (needs a token with `get /metrics`). */
  controllerManager: { bindAddress: "0.0.0.0", port: 10257, scheme: "https" },
  /** kube-scheduler: HTTPS, authenticated like the controller manager. */
  scheduler: { bindAddress: "0.0.0.0", port: 10259, scheme: "https" },
  /** etcd's separate plain-HTTP metrics listener (client traffic stays on 2379 with mutual TLS). */
  etcd: { listenMetricsUrls: "http://0.0.0.0:2381", port: 2381, scheme: "http" },
  /** kube-proxy's metrics listener (plain HTTP). */
  kubeProxy: { metricsBindAddress: "0.0.0.0:10249", port: 10249, scheme: "http" },
} as const;
