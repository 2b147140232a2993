#!/usr/bin/env bash
# `npm start`: build the default config (Sky Palette) and print the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
# An offline copy of the pinned charts' defaults beside the checkout is used when present;
# otherwise charts are fetched into ~/.cache/homelab/charts.
if [ -z "${HOMELAB_CHART_CACHE:-}" ] && [ -d ../shared/charts ]; then
  export HOMELAB_CHART_CACHE="$(cd ../shared/charts && pwd)"
fi
exec node bin/homelab.mjs build "$@"
