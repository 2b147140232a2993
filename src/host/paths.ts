/** Where each rendered host file lives inside `hosts/<node>/` (the bootstrap script and the tests use these). */
export const HOSTS_ROOT = "hosts";
export const BOOTSTRAP_SCRIPT = "bootstrap.sh";
export const KUBEADM_CONFIG = "kubeadm.yaml";
export const CONTAINERD_CONFIG = "containerd/config.toml";
export const CHRONY_CONF = "chrony/chrony.conf";
export const MODULES_FILE = "kernel/modules-load.conf";
export const SYSCTL_FILE = "kernel/sysctl.conf";
export const CALICO_FILE = "cni/calico.yaml";
export const ARGOCD_VALUES = "argocd/values.yaml";
export const COMPOSE_FILE = "compose.yaml";
