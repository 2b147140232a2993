#!/usr/bin/env bash
# Installs the Debian tools the tests drive for real, when they are missing.
set -euo pipefail
need=()
command -v age >/dev/null 2>&1 || need+=(age)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
# kubectl's built-in kustomize builds the rendered folders in tests.
command -v kubectl >/dev/null 2>&1 || need+=(kubectl)
# The site's end-to-end tests drive Debian's Chromium headless through playwright-core.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The rendered bootstrap scripts (hosts/<node>/bootstrap.sh) must be shellcheck-clean.
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
if [ ${#need[@]} -gt 0 ]; then
  echo "ensure-tools: installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  # Debian names kubectl's package kubernetes-client when no Kubernetes apt source is configured.
  if [[ " ${need[*]} " == *" kubectl "* ]] && ! apt-cache show kubectl >/dev/null 2>&1; then
    need=("${need[@]/kubectl/kubernetes-client}")
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
fi
