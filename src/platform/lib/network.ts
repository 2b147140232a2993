/**
 * NetworkPolicy builders. Every namespace starts from deny-all; each component then names the flows it needs,
 * so the rendered policies read like a list of who talks to whom.
 */
import type { K8sObject } from "../../model/k8s.ts";
import { POLICY_ANNOTATIONS } from "../../policy/annotations.ts";

export type Selector = Record<string, string>;
export interface Port {
  readonly port: number | string;
  readonly protocol?: "TCP" | "UDP";
}

/** Private ranges: "the internet" in egress rules means everything but these. */
const PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"];

export type Peer =
  | { readonly kind: "namespace"; readonly namespace: string; readonly pods?: Selector }
  | { readonly kind: "same-namespace"; readonly pods?: Selector }
  | { readonly kind: "cidr"; readonly cidr: string; readonly except?: readonly string[] }
  | { readonly kind: "internet" };

export const peer = {
  ns: (namespace: string, pods?: Selector): Peer => ({ kind: "namespace", namespace, ...(pods ? { pods } : {}) }),
  same: (pods?: Selector): Peer => ({ kind: "same-namespace", ...(pods ? { pods } : {}) }),
  cidr: (cidr: string): Peer => ({ kind: "cidr", cidr }),
  internet: (): Peer => ({ kind: "internet" }),
};

function peerSpec(p: Peer): Record<string, unknown> {
  switch (p.kind) {
    case "namespace":
      return {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": p.namespace } },
        ...(p.pods ? { podSelector: { matchLabels: p.pods } } : {}),
      };
    case "same-namespace":
      return { podSelector: p.pods ? { matchLabels: p.pods } : {} };
    case "cidr":
      return { ipBlock: { cidr: p.cidr, ...(p.except?.length ? { except: [...p.except] } : {}) } };
    case "internet":
      return { ipBlock: { cidr: "0.0.0.0/0", except: PRIVATE } };
  }
}

function portSpec(ports: readonly Port[]): Record<string, unknown>[] {
  return ports.map((p) => ({ protocol: p.protocol ?? "TCP", port: p.port }));
}

/** One allowed flow, seen from the pods the policy selects. */
export interface Flow {
  /** Policy name suffix, e.g. `from-ingress-nginx`. */
  readonly name: string;
  readonly direction: "ingress" | "egress";
  /** Pods in this namespace the flow applies to; all pods when omitted. */
  readonly pods?: Selector;
  readonly peers: readonly Peer[];
  readonly ports: readonly Port[];
  /**
   * Which controller creates the selected pods at run time, when no rendered workload has them; recorded
   * on the policy (`homelab/runtime-pods`) so the dangling-references rule knows the selector is meant.
   * @default none: the selected pods are rendered
   */
  readonly runtimePods?: string;
}

export function networkPolicy(namespace: string, flow: Flow): K8sObject {
  // An empty port list means every port of the peer.
  const rule = {
    [flow.direction === "ingress" ? "from" : "to"]: flow.peers.map(peerSpec),
    ...(flow.ports.length ? { ports: portSpec(flow.ports) } : {}),
  };
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: `allow-${flow.name}`, namespace, ...(flow.runtimePods && { annotations: { [POLICY_ANNOTATIONS.runtimePods]: flow.runtimePods } }) },
    spec: {
      podSelector: flow.pods ? { matchLabels: flow.pods } : {},
      policyTypes: [flow.direction === "ingress" ? "Ingress" : "Egress"],
      [flow.direction]: [rule],
    },
  };
}

/** Deny all traffic in and out of the namespace; every allowed flow is its own policy. */
export function defaultDeny(namespace: string): K8sObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "default-deny", namespace },
    spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
  };
}

/** ingress-nginx's controller pods: every request from outside arrives from them. */
export const INGRESS_CONTROLLER = {
  namespace: "ingress-nginx",
  labels: { "app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller" } as Selector,
};

/** Prometheus' pods (the operator labels them so); every scrape comes from them. */
export const PROMETHEUS = {
  namespace: "monitoring",
  labels: { "app.kubernetes.io/name": "prometheus" } as Selector,
};

/** Prometheus' HTTP API inside the cluster (the chart's Service, with `fullnameOverride: monitoring`). */
export const PROMETHEUS_API = { url: "http://monitoring-prometheus.monitoring.svc.cluster.local:9090", port: 9090 };

/**
 * While cert-manager issues a certificate for an Ingress, it runs an HTTP-01 solver pod in the Ingress's
 * namespace, and Let's Encrypt reaches it through the tunnel and ingress-nginx.
 */
export const ACME_SOLVER_PORT = 8089;

export const acmeSolverFlow: Flow = {
  name: "acme-solver-from-ingress-nginx",
  direction: "ingress",
  pods: { "acme.cert-manager.io/http01-solver": "true" },
  runtimePods: "cert-manager starts the HTTP-01 solver pod while it issues a certificate for an Ingress of this namespace",
  peers: [peer.ns(INGRESS_CONTROLLER.namespace, INGRESS_CONTROLLER.labels)],
  ports: [{ port: ACME_SOLVER_PORT }],
};

/** Cluster DNS, which every pod needs. */
export const dnsFlow: Flow = {
  name: "dns",
  direction: "egress",
  peers: [peer.ns("kube-system", { "k8s-app": "kube-dns" })],
  ports: [
    { port: 53, protocol: "UDP" },
    { port: 53, protocol: "TCP" },
  ],
};

/**
 * The API server, for controllers. Policies see traffic after the Service IP is translated, so the node
 * addresses on 6443 are what matters; the Service IP on 443 is listed for CNIs that match before translation.
 */
export function apiServerFlow(nodeAddresses: readonly string[], serviceCIDR: string, pods?: Selector): Flow {
  return {
    name: "kube-apiserver",
    direction: "egress",
    ...(pods ? { pods } : {}),
    peers: [...nodeAddresses.map((a) => peer.cidr(`${a}/32`)), peer.cidr(`${firstServiceIP(serviceCIDR)}/32`)],
    ports: [{ port: 6443 }, { port: 443 }],
  };
}

/** The kubernetes Service takes the first address of the service range. */
export function firstServiceIP(cidr: string): string {
  const [base] = cidr.split("/");
  const parts = (base ?? "").split(".").map(Number);
  parts[3] = (parts[3] ?? 0) + 1;
  return parts.join(".");
}
