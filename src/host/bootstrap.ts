/**
 * `hosts/<node>/bootstrap.sh`: the homelab's only imperative step, rendered from the same config as the rest.
 * Every step checks before it acts, so a run that stopped anywhere is finished by running it again;
 * `--dry-run` prints what each step would do and changes nothing. docs/bootstrap.md walks through the same
 * steps (a test compares the two lists).
 */
import type { HomelabConfig, NodeConfig, Versions } from "../config/schema.ts";
import { imageRef } from "../platform/lib/context.ts";
import { COMPOSE_PROJECT, COMPOSE_SECRETS_FILE, DB_DUMP_DIR } from "./compose.ts";
import { calicoOperatorUrl } from "./cni.ts";
import { CONTAINERD_CONFIG, CHRONY_CONF, KUBEADM_CONFIG, MODULES_FILE, SYSCTL_FILE, CALICO_FILE, ARGOCD_VALUES, COMPOSE_FILE } from "./paths.ts";
import { tunnelRoutes } from "./tunnels.ts";

/** The steps, in the order a fresh box needs them. */
export const BOOTSTRAP_STEPS = [
  "packages",
  "kernel",
  "containerd",
  "chrony",
  "tunnels",
  "compose",
  "kubeadm",
  "cni",
  "sops-age",
  "argocd",
  "root",
] as const;
export type BootstrapStep = (typeof BOOTSTRAP_STEPS)[number];

/** Debian packages the node needs; kubeadm, kubelet and kubectl come from the Kubernetes minor's own repository. */
export const NODE_PACKAGES = [
  "ca-certificates",
  "curl",
  "gpg",
  "jq",
  "containerd",
  "docker.io",
  "docker-compose",
  "chrony",
  "nodejs",
  "npm",
  "kubeadm",
  "kubelet",
  "kubectl",
];

/** Single-quotes a value for bash. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface BootstrapInputs {
  readonly config: HomelabConfig;
  readonly versions: Versions;
  readonly node: NodeConfig;
  /** Whether this node runs the Compose stack. */
  readonly compose: boolean;
  /** Whether this node runs `kubeadm init` (the first control-plane node). */
  readonly init: boolean;
  /** The rendered files the root step applies, relative to the repository root. */
  readonly rootFiles: readonly string[];
  /** The Argo CD chart's name, repository and pinned version. */
  readonly argocdChart: { readonly name: string; readonly repo: string; readonly version: string };
}

export function bootstrapScript(i: BootstrapInputs): string {
  const { config, versions, node } = i;
  const routes = tunnelRoutes(config);
  const vars: [string, string][] = [
    ["NODE", node.name],
    ["K8S_MINOR", config.kubernetesVersion],
    ["RUNS_COMPOSE", i.compose ? "1" : "0"],
    ["RUNS_INIT", i.init ? "1" : "0"],
    ["COMPOSE_PROJECT", COMPOSE_PROJECT],
    ["COMPOSE_SECRETS", COMPOSE_SECRETS_FILE],
    ["DB_DUMP_DIR", DB_DUMP_DIR],
    ["CLUSTER_TUNNEL", routes[0]!.tunnel],
    ["CLUSTER_TUNNEL_HOST", routes[0]!.hostname],
    ["GIT_TUNNEL", routes[1]!.tunnel],
    ["GIT_TUNNEL_HOST", routes[1]!.hostname],
    ["CLUSTER_TUNNEL_CREDENTIALS_FILE", "secrets/cloudflared/cloudflared-credentials.sops.yaml"],
    ["CLOUDFLARED_IMAGE", imageRef(versions, "cloudflared")],
    ["HELM_IMAGE", imageRef(versions, "helm")],
    ["CALICO_OPERATOR_URL", calicoOperatorUrl(versions)],
    ["ARGOCD_CHART", i.argocdChart.name],
    ["ARGOCD_REPO", i.argocdChart.repo],
    ["ARGOCD_VERSION", i.argocdChart.version],
  ];
  const header = [
    "#!/usr/bin/env bash",
    `# Rendered by \`homelab build\` from homelab.config.ts and versions.yaml. Do not edit: edit the source and rebuild.`,
    `# Bootstrap of ${node.name} (${node.address}): from a blank Debian 13 box to a green Argo CD. See docs/bootstrap.md.`,
    "#",
    `# Usage: sudo bash hosts/${node.name}/bootstrap.sh [--dry-run] [step...]`,
    "# With no step, every step runs in order. Each step checks before it acts: re-run it after a failure.",
    "# The age identity (AGE-SECRET-KEY-1...) is read from standard input when a step needs it, unless",
    "# SOPS_AGE_KEY or SOPS_AGE_KEY_FILE is set; it is never read from, or written to, a file in the repository.",
    "set -euo pipefail",
    "",
    ...vars.map(([k, v]) => `${k}=${shq(v)}`),
    `STEPS=(${BOOTSTRAP_STEPS.join(" ")})`,
    `PACKAGES=(${NODE_PACKAGES.join(" ")})`,
    `ROOT_FILES=(${i.rootFiles.map(shq).join(" ")})`,
    "",
    "HERE=\"$(cd \"$(dirname \"${BASH_SOURCE[0]}\")\" && pwd)\"",
    "REPO=\"$(cd \"$HERE/../..\" && pwd)\"",
    `KUBEADM_CONFIG="$HERE/${KUBEADM_CONFIG}"`,
    `CONTAINERD_CONFIG="$HERE/${CONTAINERD_CONFIG}"`,
    `CHRONY_CONF="$HERE/${CHRONY_CONF}"`,
    `MODULES_FILE="$HERE/${MODULES_FILE}"`,
    `SYSCTL_FILE="$HERE/${SYSCTL_FILE}"`,
    `CALICO_FILE="$HERE/${CALICO_FILE}"`,
    `ARGOCD_VALUES="$HERE/${ARGOCD_VALUES}"`,
    `COMPOSE_FILE="$HERE/${COMPOSE_FILE}"`,
    "",
  ];
  return header.join("\n") + BODY;
}

// The static part. Written as a template literal: every `\${` below is a literal `${` in the script.
const BODY = `
# Every path of the box below this prefix: empty on the box; the tests point it at a scratch folder.
FS="\${BOOTSTRAP_ROOT_FS:-}"
export KUBECONFIG="\${KUBECONFIG:-$FS/etc/kubernetes/admin.conf}"
CF_DIR="$FS/root/.cloudflared"
DB_DUMP_DIR="$FS$DB_DUMP_DIR"
DRY_RUN=0

say() { printf '%s\\n' "$*"; }
die() { printf 'bootstrap: %s\\n' "$*" >&2; exit 1; }

# Runs a command, or in a dry run prints it.
run() {
  if [ "$DRY_RUN" = 1 ]; then
    say "    would run: $*"
  else
    say "    + $*"
    "$@"
  fi
}

# Like run, for a pipeline or redirection written as one shell string.
run_sh() {
  if [ "$DRY_RUN" = 1 ]; then
    say "    would run: $1"
  else
    say "    + $1"
    bash -o pipefail -c "$1"
  fi
}

skip() { say "    ok: $*"; }

# A file the box must hold: copied only when it differs; returns 0 when it changed.
install_file() {
  local src="$1" dest="$2"
  if cmp -s "$src" "$dest" 2>/dev/null; then
    skip "$dest is current"
    return 1
  fi
  run install -D -m 0644 "$src" "$dest"
}

kube() { kubectl --request-timeout=10s "$@"; }

# grep reads to the end (no -q): under pipefail, a writer cut off by an early exit would fail the check.
installed() { dpkg-query -W -f='\${Status}' "$1" 2>/dev/null | grep 'install ok installed' >/dev/null; }

# The age identity, once, from standard input (never from a file in the repository).
need_age_key() {
  if [ -n "\${SOPS_AGE_KEY:-}" ] || [ -n "\${SOPS_AGE_KEY_FILE:-}" ] || [ "$DRY_RUN" = 1 ]; then return 0; fi
  if [ -t 0 ]; then printf 'age identity (AGE-SECRET-KEY-1...): ' >&2; fi
  IFS= read -rs SOPS_AGE_KEY || die "no age identity on standard input"
  [ -t 0 ] && printf '\\n' >&2
  case "$SOPS_AGE_KEY" in AGE-SECRET-KEY-1*) ;; *) die "standard input did not start with an age identity (AGE-SECRET-KEY-1...)" ;; esac
  export SOPS_AGE_KEY
}

# The repository's own CLI (bin/homelab.mjs), installed by the packages step.
homelab() { node "$REPO/bin/homelab.mjs" "$@"; }

cloudflared() { docker run --rm --user 0 -e HOME=/cf -v "$CF_DIR:/cf/.cloudflared" "$CLOUDFLARED_IMAGE" "$@"; }

step_packages() {
  local list="$FS/etc/apt/sources.list.d/kubernetes.list" keyring="$FS/etc/apt/keyrings/kubernetes-apt-keyring.gpg"
  local repo="https://pkgs.k8s.io/core:/stable:/v\${K8S_MINOR}/deb/"
  if grep -qsF "$repo" "$list"; then
    skip "Kubernetes \${K8S_MINOR} package repository"
  else
    run install -d -m 0755 "$FS/etc/apt/keyrings"
    run_sh "curl -fsSL \${repo}Release.key | gpg --batch --yes --dearmor -o $keyring"
    run_sh "echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] \${repo} /' > $list"
  fi
  local missing=() p
  for p in "\${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
  if [ "\${#missing[@]}" -eq 0 ]; then
    skip "packages installed"
  else
    run apt-get update
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "\${missing[@]}"
  fi
  if apt-mark showhold 2>/dev/null | grep -x kubelet >/dev/null; then
    skip "kubeadm, kubelet, kubectl held"
  else
    run apt-mark hold kubeadm kubelet kubectl
  fi
  if [ -n "$(swapon --show --noheadings 2>/dev/null)" ]; then
    run swapoff -a
  else
    skip "no swap in use"
  fi
  if grep -Eqs '^[^#]\\S*\\s+\\S+\\s+swap\\s' "$FS/etc/fstab"; then
    run sed -i.homelab-bak -E 's/^([^#]\\S*\\s+\\S+\\s+swap\\s.*)$/# \\1/' "$FS/etc/fstab"
  else
    skip "no swap in /etc/fstab"
  fi
  if [ -f "$REPO/node_modules/.package-lock.json" ]; then
    skip "homelab CLI installed"
  else
    run_sh "cd '$REPO' && npm ci --no-audit --no-fund"
  fi
  if [ -d "$FS/var/lib/homelab/volumes" ]; then skip "volume folder exists"; else run install -d -m 0755 "$FS/var/lib/homelab/volumes"; fi
}

step_kernel() {
  local m
  install_file "$MODULES_FILE" "$FS/etc/modules-load.d/kubernetes.conf" || true
  for m in overlay br_netfilter; do
    if lsmod 2>/dev/null | grep -w "^$m" >/dev/null; then skip "module $m loaded"; else run modprobe "$m"; fi
  done
  if install_file "$SYSCTL_FILE" "$FS/etc/sysctl.d/90-kubernetes.conf"; then run sysctl --system; fi
}

step_containerd() {
  if install_file "$CONTAINERD_CONFIG" "$FS/etc/containerd/config.toml"; then run systemctl restart containerd; fi
  if systemctl is-enabled --quiet containerd 2>/dev/null; then skip "containerd enabled"; else run systemctl enable --now containerd; fi
}

step_chrony() {
  if install_file "$CHRONY_CONF" "$FS/etc/chrony/chrony.conf"; then run systemctl restart chrony; fi
  if systemctl is-enabled --quiet chrony 2>/dev/null; then skip "chrony enabled"; else run systemctl enable --now chrony; fi
}

# One tunnel: created when missing, its credentials stored encrypted and the plaintext shredded, its
# DNS route (re)pointed. Cloudflare's side needs a login once: cloudflared tunnel login.
tunnel() {
  local name="$1" host="$2" store="$3" id=""
  id="$(cloudflared tunnel list --name "$name" --output json 2>/dev/null | jq -r '.[0].id // empty' 2>/dev/null || true)"
  if [ -n "$id" ]; then
    skip "tunnel $name exists ($id)"
  else
    run cloudflared tunnel create "$name"
    id="$(cloudflared tunnel list --name "$name" --output json 2>/dev/null | jq -r '.[0].id // empty' 2>/dev/null || true)"
  fi
  if [ -n "$id" ] && [ -f "$CF_DIR/$id.json" ]; then
    "$store" "$CF_DIR/$id.json"
    run shred -u "$CF_DIR/$id.json"
  else
    skip "no plaintext credentials of $name on disk (stored earlier)"
  fi
  # Cloudflare keeps one record per name: re-pointing it at the same tunnel changes nothing.
  run cloudflared tunnel route dns --overwrite-dns "$name" "$host"
}

store_cluster_credentials() {
  run_sh "node '$REPO/bin/homelab.mjs' secrets set '$REPO/$CLUSTER_TUNNEL_CREDENTIALS_FILE' credentials.json < '$1'"
}

store_git_credentials() {
  run_sh "jq -c . '$1' | node '$REPO/bin/homelab.mjs' secrets set '$REPO/$COMPOSE_SECRETS' FORGEJO_TUNNEL_CREDENTIALS"
}

step_tunnels() {
  if [ ! -f "$CF_DIR/cert.pem" ]; then
    if [ "$DRY_RUN" = 1 ]; then
      say "    would run: cloudflared tunnel login   (once; opens a Cloudflare login link)"
    else
      run install -d -m 0700 "$CF_DIR"
      run cloudflared tunnel login
    fi
  else
    skip "logged in to Cloudflare"
  fi
  need_age_key
  tunnel "$CLUSTER_TUNNEL" "$CLUSTER_TUNNEL_HOST" store_cluster_credentials
  tunnel "$GIT_TUNNEL" "$GIT_TUNNEL_HOST" store_git_credentials
  if git -C "$REPO" diff --quiet -- secrets/ 2>/dev/null; then
    skip "no new ciphertext to commit"
  else
    say "    commit and push the new ciphertext in secrets/ (then: npx homelab build) once Forgejo is up"
  fi
}

step_compose() {
  if [ "$RUNS_COMPOSE" != 1 ]; then skip "the Compose stack runs on another node"; return 0; fi
  if [ -d "$DB_DUMP_DIR" ]; then
    skip "$DB_DUMP_DIR exists"
  else
    # uid 70: the postgres user of the Alpine image that writes the dumps.
    run install -d -m 0750 -o 70 -g 70 "$DB_DUMP_DIR"
  fi
  need_age_key
  # Compose recreates only the services whose configuration changed, so this is the check and the act in
  # one. The credentials exist only in the environment of this one command.
  if [ "$DRY_RUN" = 1 ]; then
    say "    would run: homelab secrets exec-env $COMPOSE_SECRETS -- docker compose --project-name $COMPOSE_PROJECT --file $COMPOSE_FILE up --detach --wait"
  else
    run homelab secrets exec-env "$REPO/$COMPOSE_SECRETS" -- docker compose --project-name "$COMPOSE_PROJECT" --file "$COMPOSE_FILE" up --detach --wait
  fi
}

step_kubeadm() {
  if [ "$RUNS_INIT" != 1 ]; then
    skip "not the first control-plane node: join it with the command 'kubeadm token create --print-join-command' prints there"
    return 0
  fi
  if [ -f "$FS/etc/kubernetes/admin.conf" ]; then
    skip "cluster initialised (/etc/kubernetes/admin.conf exists)"
  else
    run kubeadm config validate --config "$KUBEADM_CONFIG"
    run kubeadm init --config "$KUBEADM_CONFIG"
  fi
}

step_cni() {
  if kube get installations.operator.tigera.io default >/dev/null 2>&1 && kube wait --for=condition=Ready "node/$NODE" --timeout=5s >/dev/null 2>&1; then
    skip "Calico installed and $NODE Ready"
    return 0
  fi
  run kubectl apply --server-side --force-conflicts -f "$CALICO_OPERATOR_URL"
  run kubectl wait --for=condition=Established crd/installations.operator.tigera.io crd/apiservers.operator.tigera.io --timeout=120s
  run kubectl apply --server-side -f "$CALICO_FILE"
  run kubectl wait --for=condition=Ready "node/$NODE" --timeout=600s
}

step_sops_age() {
  if kube -n argocd get secret sops-age >/dev/null 2>&1; then skip "Secret argocd/sops-age exists"; return 0; fi
  if kube get namespace argocd >/dev/null 2>&1; then skip "namespace argocd exists"; else run kubectl create namespace argocd; fi
  need_age_key
  if [ "$DRY_RUN" = 1 ]; then
    say "    would run: kubectl -n argocd create secret generic sops-age --from-file=keys.txt=/dev/stdin   (the identity from standard input)"
  elif [ -n "\${SOPS_AGE_KEY:-}" ]; then
    say "    + kubectl -n argocd create secret generic sops-age --from-file=keys.txt=/dev/stdin"
    printf '%s\\n' "$SOPS_AGE_KEY" | kubectl -n argocd create secret generic sops-age --from-file=keys.txt=/dev/stdin
  else
    run kubectl -n argocd create secret generic sops-age --from-file=keys.txt="$SOPS_AGE_KEY_FILE"
  fi
}

step_argocd() {
  if kube -n argocd rollout status deployment/argocd-server --timeout=5s >/dev/null 2>&1; then
    skip "Argo CD is running"
    return 0
  fi
  if kube get namespace argocd >/dev/null 2>&1; then skip "namespace argocd exists"; else run kubectl create namespace argocd; fi
  # The values its Application uses, rendered beside this script; no Helm release is installed, and the
  # field manager is the one Argo CD's own sync uses, so the argocd Application takes over every field.
  run_sh "docker run --rm -v '$(dirname "$ARGOCD_VALUES"):/values:ro' '$HELM_IMAGE' template argocd '$ARGOCD_CHART' --repo '$ARGOCD_REPO' --version '$ARGOCD_VERSION' --namespace argocd --values /values/values.yaml | kubectl apply --server-side --field-manager=argocd-controller -f -"
  run kubectl -n argocd rollout status deployment/argocd-server --timeout=600s
}

step_root() {
  if kube -n argocd get applications.argoproj.io root >/dev/null 2>&1; then
    skip "the root Application exists: Argo CD owns everything from here"
    return 0
  fi
  local args=() f
  for f in "\${ROOT_FILES[@]}"; do args+=(-f "$REPO/$f"); done
  run kubectl apply "\${args[@]}"
}

usage() {
  say "usage: bootstrap.sh [--dry-run] [step...]"
  say "steps, in order: \${STEPS[*]}"
}

main() {
  local selected=() s
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --dry-run) DRY_RUN=1 ;;
      -h | --help) usage; exit 0 ;;
      -*) usage >&2; printf 'bootstrap: unknown option %s\\n' "$1" >&2; exit 2 ;;
      *)
        case " \${STEPS[*]} " in *" $1 "*) selected+=("$1") ;; *) usage >&2; printf 'bootstrap: unknown step %s\\n' "$1" >&2; exit 2 ;; esac
        ;;
    esac
    shift
  done
  [ "\${#selected[@]}" -gt 0 ] || selected=("\${STEPS[@]}")
  if [ "$DRY_RUN" != 1 ] && [ "$(id -u)" != 0 ]; then die "run as root (or with --dry-run)"; fi
  cd "$REPO"
  for s in "\${selected[@]}"; do
    say "==> $s"
    "step_\${s//-/_}"
  done
  if [ "$DRY_RUN" = 1 ]; then say "bootstrap: dry run of \${selected[*]}: nothing was changed"; else say "bootstrap: \${selected[*]}: done"; fi
}

main "$@"
`;
