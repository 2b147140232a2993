/**
 * Which of our rules answers each peer linter check, and where we deliberately judge differently.
 * docs/policy.md shows the same table (peers.test.ts keeps them in step).
 */
export interface PeerMapping {
  readonly peer: "polaris" | "kube-linter";
  /** Polaris check folder, or kube-linter fixture file name without extension. */
  readonly check: string;
  /** Our rules that judge the same condition; only they run on the fixture. */
  readonly rules: readonly string[];
  /**
   * When a rule judges more than the peer's check (`probes` wants liveness and readiness), only
   * findings whose `<path> <message>` matches count for this check. @default every finding
   */
  readonly condition?: RegExp;
}

const RBAC = ["rbac-least-privilege", "rbac-sensitive-access", "rbac-role-ref"] as const;
/** Polaris' `*PodExecAttach`: exec or attach, explicit or through a wildcard, or a binding to a role that is not there. */
const EXEC_ATTACH = /pods\/(exec|attach)|'\*'|roleRef/;
/** Polaris' `*ClusterAdmin*`: a role equal to cluster-admin, by wildcards or by name. */
const CLUSTER_ADMIN = /'\*'|cluster-admin|system:masters|roleRef/;

export const MAPPINGS: readonly PeerMapping[] = [
  { peer: "polaris", check: "automountServiceAccountToken", rules: ["service-account-token"] },
  { peer: "polaris", check: "clusterrolePodExecAttach", rules: RBAC, condition: EXEC_ATTACH },
  { peer: "polaris", check: "clusterrolebindingClusterAdmin", rules: RBAC, condition: CLUSTER_ADMIN },
  { peer: "polaris", check: "clusterrolebindingPodExecAttach", rules: RBAC, condition: EXEC_ATTACH },
  { peer: "polaris", check: "cpuLimitsMissing", rules: ["resources"] },
  { peer: "polaris", check: "cpuRequestsMissing", rules: ["resources"], condition: /requests\.cpu/ },
  { peer: "polaris", check: "dangerousCapabilities", rules: ["pss-capabilities"] },
  { peer: "polaris", check: "hostIPCSet", rules: ["pss-host-namespaces"], condition: /hostIPC/ },
  { peer: "polaris", check: "hostNetworkSet", rules: ["pss-host-namespaces"], condition: /hostNetwork/ },
  { peer: "polaris", check: "hostPIDSet", rules: ["pss-host-namespaces"], condition: /hostPID/ },
  { peer: "polaris", check: "hostPathSet", rules: ["pss-host-path"] },
  { peer: "polaris", check: "hostPortSet", rules: ["pss-host-namespaces"], condition: /hostPort/ },
  { peer: "polaris", check: "hostProcess", rules: ["pss-privileged"], condition: /hostProcess/ },
  { peer: "polaris", check: "insecureCapabilities", rules: ["pss-capabilities"] },
  { peer: "polaris", check: "linuxHardening", rules: ["pss-seccomp", "pss-capabilities"] },
  { peer: "polaris", check: "livenessProbeMissing", rules: ["probes"], condition: /livenessProbe/ },
  { peer: "polaris", check: "memoryLimitsMissing", rules: ["resources"], condition: /limits\.memory/ },
  { peer: "polaris", check: "memoryRequestsMissing", rules: ["resources"], condition: /requests\.memory/ },
  { peer: "polaris", check: "missingNetworkPolicy", rules: ["network-policy-coverage"] },
  { peer: "polaris", check: "notReadOnlyRootFilesystem", rules: ["read-only-root-fs"] },
  { peer: "polaris", check: "privilegeEscalationAllowed", rules: ["pss-privilege-escalation"] },
  { peer: "polaris", check: "procMount", rules: ["pss-privileged"], condition: /procMount/ },
  { peer: "polaris", check: "readinessProbeMissing", rules: ["probes"], condition: /readinessProbe/ },
  { peer: "polaris", check: "rolePodExecAttach", rules: RBAC, condition: EXEC_ATTACH },
  { peer: "polaris", check: "rolebindingClusterAdminClusterRole", rules: RBAC, condition: CLUSTER_ADMIN },
  { peer: "polaris", check: "rolebindingClusterAdminRole", rules: RBAC, condition: CLUSTER_ADMIN },
  { peer: "polaris", check: "rolebindingClusterRolePodExecAttach", rules: RBAC, condition: EXEC_ATTACH },
  { peer: "polaris", check: "rolebindingRolePodExecAttach", rules: RBAC, condition: EXEC_ATTACH },
  { peer: "polaris", check: "runAsPrivileged", rules: ["pss-privileged"], condition: /privileged/ },
  { peer: "polaris", check: "runAsRootAllowed", rules: ["pss-run-as-non-root"] },
  { peer: "polaris", check: "sensitiveConfigmapContent", rules: ["no-plaintext-secrets"] },
  { peer: "polaris", check: "sensitiveContainerEnvVar", rules: ["no-plaintext-secrets"] },
  { peer: "polaris", check: "tagNotSpecified", rules: ["image-pinned"] },
  { peer: "polaris", check: "tlsSettingsMissing", rules: ["ingress-cert-manager"], condition: /tls/i },

  { peer: "kube-linter", check: "access-to-create-pods", rules: ["rbac-sensitive-access"] },
  { peer: "kube-linter", check: "dangling-hpa", rules: ["dangling-references"] },
  { peer: "kube-linter", check: "dangling-ingress", rules: ["dangling-references"] },
  { peer: "kube-linter", check: "dangling-networkpolicy", rules: ["dangling-references"] },
  { peer: "kube-linter", check: "dangling-networkpolicypeer-podselector", rules: ["dangling-references"] },
  { peer: "kube-linter", check: "dangling-servicemonitor", rules: ["dangling-references"] },
  { peer: "kube-linter", check: "deprecated-service-account-field", rules: ["deprecated-service-account"] },
  { peer: "kube-linter", check: "duplicate-env-var", rules: ["duplicate-env"] },
  { peer: "kube-linter", check: "job-ttl-seconds-after-finished", rules: ["job-cleanup"] },
  { peer: "kube-linter", check: "non-existent-service-account", rules: ["dangling-references"], condition: /ServiceAccount/ },
  { peer: "kube-linter", check: "run-as-non-root", rules: ["pss-run-as-non-root", "run-as-root-group"] },
  { peer: "kube-linter", check: "ssh-port", rules: ["ssh-port"] },
  { peer: "kube-linter", check: "liveness-port", rules: ["probes"], condition: /livenessProbe\/\w+\/port/ },
  { peer: "kube-linter", check: "readiness-port", rules: ["probes"], condition: /readinessProbe\/\w+\/port/ },
  { peer: "kube-linter", check: "startup-port", rules: ["probes"], condition: /startupProbe\/\w+\/port/ },

  { peer: "kube-linter", check: "access-to-secrets", rules: ["rbac-sensitive-access"] },
  { peer: "kube-linter", check: "cluster-admin-role-binding", rules: ["rbac-least-privilege"], condition: /cluster-admin/ },
  { peer: "kube-linter", check: "dangling-service", rules: ["selector-match"], condition: /^\/spec\/selector .*matches no pod/ },
  { peer: "kube-linter", check: "docker-sock", rules: ["pss-host-path"] },
  { peer: "kube-linter", check: "env-var-secret", rules: ["no-plaintext-secrets"] },
  { peer: "kube-linter", check: "exposed-services", rules: ["service-exposure"] },
  { peer: "kube-linter", check: "host-ipc", rules: ["pss-host-namespaces"], condition: /hostIPC/ },
  { peer: "kube-linter", check: "host-network", rules: ["pss-host-namespaces"], condition: /hostNetwork/ },
  { peer: "kube-linter", check: "host-pid", rules: ["pss-host-namespaces"], condition: /hostPID/ },
  { peer: "kube-linter", check: "latest-tag", rules: ["image-pinned"] },
  { peer: "kube-linter", check: "mismatching-selector", rules: ["selector-match"] },
  { peer: "kube-linter", check: "no-extensions-v1beta", rules: ["removed-api"] },
  { peer: "kube-linter", check: "no-liveness-probe", rules: ["probes"], condition: /livenessProbe / },
  { peer: "kube-linter", check: "no-read-only-root-fs", rules: ["read-only-root-fs"] },
  { peer: "kube-linter", check: "no-readiness-probe", rules: ["probes"], condition: /readinessProbe / },
  { peer: "kube-linter", check: "non-isolated-pod", rules: ["network-policy-coverage"] },
  { peer: "kube-linter", check: "privilege-escalation-container", rules: ["pss-privilege-escalation"] },
  { peer: "kube-linter", check: "privileged-container", rules: ["pss-privileged"], condition: /privileged/ },
  { peer: "kube-linter", check: "sensitive-host-mounts", rules: ["pss-host-path"] },
  { peer: "kube-linter", check: "unsafe-proc-mount", rules: ["pss-privileged"], condition: /procMount/ },
  { peer: "kube-linter", check: "unsafe-sysctls", rules: ["pss-sysctls"] },
  { peer: "kube-linter", check: "unset-cpu-requirements", rules: ["resources"], condition: /requests\.cpu/ },
  { peer: "kube-linter", check: "unset-memory-requirements", rules: ["resources"], condition: /limits\.memory/ },
  { peer: "kube-linter", check: "use-namespace", rules: ["no-default-namespace"] },
  { peer: "kube-linter", check: "wildcard-in-rules", rules: ["rbac-least-privilege"] },
  { peer: "kube-linter", check: "writable-host-mount", rules: ["pss-host-path"] },
];

/** A fixture where we judge differently from the peer on purpose. */
export interface Difference {
  /** Polaris: what we do with the fixture instead. */
  readonly ours?: "flagged" | "not flagged";
  /** kube-linter: the documents (`<n> <Kind>`) we flag instead. */
  readonly documents?: readonly string[];
  readonly reason: string;
}

const WILDCARD =
  "rbac-least-privilege flags every `*` in a role: a wildcard grants every present and future resource, verb or API group, so a role that is `*` on resources with only `get, list` still reads every Secret. Polaris only flags a role that adds up to cluster-admin.";
const SYSTEM_NAMES =
  "Polaris trusts roles and bindings by name (`system:` prefix, GKE's `gce:` ones, the bootstrap `admin` and `cluster-admin`). Any manifest may use those names; one that ships them creates or overwrites the grant, so it is judged like any other (the homelab's own controllers are on the RBAC allowlist instead).";
const DROP_ALL =
  "Pod Security restricted: every container drops ALL capabilities and may add back only NET_BIND_SERVICE. Polaris accepts a container that drops only the capabilities it lists as dangerous.";
const LINUX_HARDENING =
  "Pod Security restricted asks for both a RuntimeDefault (or Localhost) seccomp profile and `drop: [ALL]`; Polaris' linuxHardening is satisfied by any one of seccomp, AppArmor, SELinux or dropped capabilities.";
const EMPTY_RULES =
  "A NetworkPolicy that lists a direction in policyTypes with no rules for it denies all of that traffic: the pod is isolated, which is what coverage asks for. Polaris wants at least one rule in each direction.";

const polaris = (check: string, files: readonly string[], ours: Difference["ours"], reason: string) =>
  Object.fromEntries(files.map((f) => [`polaris/${check}/${f}`, { ours, reason }]));

/** Keyed `polaris/<check>/<file>` or `kube-linter/<check>`. */
export const DIFFERENCES: Readonly<Record<string, Difference>> = {
  ...polaris("clusterrolePodExecAttach", ["success.defaultclusterrole_admin.yaml", "success.defaultclusterrole_clusteradmin.yaml"], "flagged", SYSTEM_NAMES),
  ...polaris("clusterrolePodExecAttach", ["success.gce_calico_clusterrole.yaml", "success.system_prefix.yaml"], "flagged", SYSTEM_NAMES),
  ...polaris("clusterrolebindingClusterAdmin", ["success.explicit_apigroups.yaml", "success.explicit_resources.yaml", "success.explicit_verbs.yaml"], "flagged", WILDCARD),
  ...polaris("clusterrolebindingClusterAdmin", ["success.gce_calico_binding.yaml", "success.system_prefix_binding.yaml"], "flagged", SYSTEM_NAMES),
  ...polaris(
    "clusterrolebindingPodExecAttach",
    ["success.defaultclusterrolebinding_clusteradmin.yaml", "success.defaultclusterrolebinding_system-controller-generic-garbage-collector.yaml", "success.gce_calico_binding.yaml", "success.system_prefix_binding.yaml"],
    "flagged",
    SYSTEM_NAMES,
  ),
  ...polaris("dangerousCapabilities", ["success.yaml"], "flagged", DROP_ALL),
  ...polaris("insecureCapabilities", ["success.all.yaml", "success.case.yaml", "success.pod.yaml", "success.yaml"], "flagged", DROP_ALL),
  ...polaris(
    "linuxHardening",
    [
      "success.apparmor_2_containers.yaml",
      "success.drop_capabilities.yaml",
      "success.seccomp_profile_container.yaml",
      "success.seccomp_profile_pod.yaml",
      "success.seccomp_profile_unconfined_for_pod_but_set_for_container.yaml",
      "success.selinux_container.yaml",
      "success.selinux_pod.yaml",
    ],
    "flagged",
    LINUX_HARDENING,
  ),
  ...polaris("missingNetworkPolicy", ["failure.netpol_missing_egress_rules.yaml", "failure.netpol_missing_ingress_rules.yaml"], "not flagged", EMPTY_RULES),
  ...polaris("rolePodExecAttach", ["success.gce_calico_binding.yaml", "success.system_prefix_binding.yaml"], "flagged", SYSTEM_NAMES),
  ...polaris("rolebindingClusterAdminClusterRole", ["success.explicit_apigroups.yaml", "success.explicit_resources.yaml", "success.explicit_verbs.yaml"], "flagged", WILDCARD),
  ...polaris("rolebindingClusterAdminClusterRole", ["success.gce_calico_binding.yaml", "success.system_prefix_binding.yaml"], "flagged", SYSTEM_NAMES),
  ...polaris("rolebindingClusterAdminRole", ["success.explicit_apigroups.yaml", "success.explicit_resources.yaml", "success.explicit_verbs.yaml"], "flagged", WILDCARD),
  ...polaris("rolebindingClusterAdminRole", ["success.gce_calico_binding.yaml", "success.system_prefix_binding.yaml"], "flagged", SYSTEM_NAMES),
  ...polaris("rolebindingClusterRolePodExecAttach", ["success.gce_calico_binding.yaml", "success.system_prefix_binding.yaml"], "flagged", SYSTEM_NAMES),
  ...polaris("rolebindingRolePodExecAttach", ["success.gce_calico_binding.yaml", "success.system_prefix_binding.yaml"], "flagged", SYSTEM_NAMES),
  ...polaris(
    "rolebindingRolePodExecAttach",
    ["success.role_binding_cluster_role_binding.yaml"],
    "flagged",
    "The ClusterRole is `*` on everything; Polaris' RoleBinding check passes it because the binding in the fixture is a ClusterRoleBinding (another check's business). Ours judges the role itself, wherever it is bound.",
  ),
  "kube-linter/access-to-create-pods": {
    documents: ["2 Role"],
    reason: "rbac-sensitive-access reports the grant on the Role, where it is fixed and where it stays dangerous for every future binding; kube-linter reports each binding of it.",
  },
  "kube-linter/access-to-secrets": {
    documents: ["2 Role"],
    reason: "rbac-sensitive-access reports the grant on the Role, where it is fixed and where it stays dangerous for every future binding; kube-linter reports each binding of it.",
  },
  "kube-linter/dangling-servicemonitor": {
    documents: ["2 ServiceMonitor", "6 ServiceMonitor", "8 ServiceMonitor", "10 ServiceMonitor", "12 ServiceMonitor"],
    reason: "A ServiceMonitor without a namespaceSelector looks in its own namespace only (the Prometheus operator's rule); the `dont-fire` monitor has no namespace and its Service lives in `dontfire`, so it selects nothing. kube-linter searches every namespace then.",
  },
  "kube-linter/job-ttl-seconds-after-finished": {
    documents: ["1 Job", "4 CronJob"],
    reason: "job-cleanup wants a CronJob to say how it cleans up: explicit history limits or a TTL on its jobTemplate, either of which bounds the pile. kube-linter flags the TTL (it may cut the history short) and accepts a CronJob that relies on the defaults.",
  },
  "kube-linter/docker-sock": {
    documents: ["1 Deployment", "2 DeploymentConfig", "3 Deployment", "4 DeploymentConfig"],
    reason: "Pod Security restricted allows no hostPath volume at all (the homelab's node agents are allowlisted path by path); kube-linter only flags the Docker socket, so its `dont-fire` objects mounting /var/run/thing.sock are flagged here too.",
  },
  "kube-linter/latest-tag": {
    documents: ["1 Deployment", "2 DeploymentConfig", "3 Deployment", "4 DeploymentConfig"],
    reason: "image-pinned also warns about a release line such as `app:v1`, which moves with every release in it; kube-linter only blocks `latest` and untagged images.",
  },
  "kube-linter/non-isolated-pod": {
    documents: ["3 Deployment", "4 DeploymentConfig", "5 Deployment", "6 DeploymentConfig"],
    reason: "network-policy-coverage wants each pod isolated for Egress too; the `dont-fire` policies (no policyTypes, no egress rules) isolate Ingress only, which is all kube-linter asks.",
  },
};
