/**
 * Kubernetes API versions that were deprecated or removed, by the version that did it.
 * `kinds` lists the kinds served at that apiVersion the entry applies to (`*` = every kind).
 * Source: the Kubernetes deprecated API migration guide.
 */
export interface ApiDeprecation {
  readonly apiVersion: string;
  readonly kinds: readonly string[];
  readonly deprecatedIn: string;
  /** Minor version that stopped serving it; absent while it is only deprecated. */
  readonly removedIn?: string;
  readonly replacement: string;
}

const WORKLOADS = ["Deployment", "DaemonSet", "ReplicaSet", "StatefulSet"];

export const API_DEPRECATIONS: readonly ApiDeprecation[] = [
  { apiVersion: "extensions/v1beta1", kinds: WORKLOADS, deprecatedIn: "1.8", removedIn: "1.16", replacement: "apps/v1" },
  { apiVersion: "apps/v1beta1", kinds: WORKLOADS, deprecatedIn: "1.9", removedIn: "1.16", replacement: "apps/v1" },
  { apiVersion: "apps/v1beta2", kinds: WORKLOADS, deprecatedIn: "1.9", removedIn: "1.16", replacement: "apps/v1" },
  { apiVersion: "extensions/v1beta1", kinds: ["NetworkPolicy"], deprecatedIn: "1.9", removedIn: "1.16", replacement: "networking.k8s.io/v1" },
  { apiVersion: "extensions/v1beta1", kinds: ["PodSecurityPolicy"], deprecatedIn: "1.10", removedIn: "1.16", replacement: "Pod Security Admission" },
  { apiVersion: "extensions/v1beta1", kinds: ["Ingress"], deprecatedIn: "1.14", removedIn: "1.22", replacement: "networking.k8s.io/v1" },
  { apiVersion: "networking.k8s.io/v1beta1", kinds: ["Ingress", "IngressClass"], deprecatedIn: "1.19", removedIn: "1.22", replacement: "networking.k8s.io/v1" },
  { apiVersion: "admissionregistration.k8s.io/v1beta1", kinds: ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"], deprecatedIn: "1.16", removedIn: "1.22", replacement: "admissionregistration.k8s.io/v1" },
  { apiVersion: "apiextensions.k8s.io/v1beta1", kinds: ["CustomResourceDefinition"], deprecatedIn: "1.16", removedIn: "1.22", replacement: "apiextensions.k8s.io/v1" },
  { apiVersion: "apiregistration.k8s.io/v1beta1", kinds: ["APIService"], deprecatedIn: "1.19", removedIn: "1.22", replacement: "apiregistration.k8s.io/v1" },
  { apiVersion: "authentication.k8s.io/v1beta1", kinds: ["TokenReview"], deprecatedIn: "1.19", removedIn: "1.22", replacement: "authentication.k8s.io/v1" },
  { apiVersion: "authorization.k8s.io/v1beta1", kinds: ["*"], deprecatedIn: "1.19", removedIn: "1.22", replacement: "authorization.k8s.io/v1" },
  { apiVersion: "certificates.k8s.io/v1beta1", kinds: ["CertificateSigningRequest"], deprecatedIn: "1.19", removedIn: "1.22", replacement: "certificates.k8s.io/v1" },
  { apiVersion: "coordination.k8s.io/v1beta1", kinds: ["Lease"], deprecatedIn: "1.19", removedIn: "1.22", replacement: "coordination.k8s.io/v1" },
  { apiVersion: "rbac.authorization.k8s.io/v1beta1", kinds: ["*"], deprecatedIn: "1.17", removedIn: "1.22", replacement: "rbac.authorization.k8s.io/v1" },
  { apiVersion: "rbac.authorization.k8s.io/v1alpha1", kinds: ["*"], deprecatedIn: "1.17", removedIn: "1.22", replacement: "rbac.authorization.k8s.io/v1" },
  { apiVersion: "scheduling.k8s.io/v1beta1", kinds: ["PriorityClass"], deprecatedIn: "1.14", removedIn: "1.22", replacement: "scheduling.k8s.io/v1" },
  { apiVersion: "storage.k8s.io/v1beta1", kinds: ["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"], deprecatedIn: "1.19", removedIn: "1.22", replacement: "storage.k8s.io/v1" },
  { apiVersion: "batch/v1beta1", kinds: ["CronJob"], deprecatedIn: "1.21", removedIn: "1.25", replacement: "batch/v1" },
  { apiVersion: "discovery.k8s.io/v1beta1", kinds: ["EndpointSlice"], deprecatedIn: "1.21", removedIn: "1.25", replacement: "discovery.k8s.io/v1" },
  { apiVersion: "events.k8s.io/v1beta1", kinds: ["Event"], deprecatedIn: "1.19", removedIn: "1.25", replacement: "events.k8s.io/v1" },
  { apiVersion: "autoscaling/v2beta1", kinds: ["HorizontalPodAutoscaler"], deprecatedIn: "1.22", removedIn: "1.25", replacement: "autoscaling/v2" },
  { apiVersion: "policy/v1beta1", kinds: ["PodDisruptionBudget"], deprecatedIn: "1.21", removedIn: "1.25", replacement: "policy/v1" },
  { apiVersion: "policy/v1beta1", kinds: ["PodSecurityPolicy"], deprecatedIn: "1.21", removedIn: "1.25", replacement: "Pod Security Admission" },
  { apiVersion: "node.k8s.io/v1beta1", kinds: ["RuntimeClass"], deprecatedIn: "1.20", removedIn: "1.25", replacement: "node.k8s.io/v1" },
  { apiVersion: "autoscaling/v2beta2", kinds: ["HorizontalPodAutoscaler"], deprecatedIn: "1.23", removedIn: "1.26", replacement: "autoscaling/v2" },
  { apiVersion: "flowcontrol.apiserver.k8s.io/v1beta1", kinds: ["FlowSchema", "PriorityLevelConfiguration"], deprecatedIn: "1.23", removedIn: "1.26", replacement: "flowcontrol.apiserver.k8s.io/v1" },
  { apiVersion: "storage.k8s.io/v1beta1", kinds: ["CSIStorageCapacity"], deprecatedIn: "1.24", removedIn: "1.27", replacement: "storage.k8s.io/v1" },
  { apiVersion: "flowcontrol.apiserver.k8s.io/v1beta2", kinds: ["FlowSchema", "PriorityLevelConfiguration"], deprecatedIn: "1.26", removedIn: "1.29", replacement: "flowcontrol.apiserver.k8s.io/v1" },
  { apiVersion: "flowcontrol.apiserver.k8s.io/v1beta3", kinds: ["FlowSchema", "PriorityLevelConfiguration"], deprecatedIn: "1.29", removedIn: "1.32", replacement: "flowcontrol.apiserver.k8s.io/v1" },
  // Still served; deprecated in favour of EndpointSlice.
  { apiVersion: "v1", kinds: ["Endpoints"], deprecatedIn: "1.33", replacement: "discovery.k8s.io/v1 EndpointSlice" },
  { apiVersion: "v1", kinds: ["ComponentStatus"], deprecatedIn: "1.19", replacement: "the API server's /livez and /readyz endpoints" },
];

export function deprecationFor(apiVersion: string, kind: string): ApiDeprecation | undefined {
  return API_DEPRECATIONS.find((d) => d.apiVersion === apiVersion && (d.kinds.includes("*") || d.kinds.includes(kind)));
}
