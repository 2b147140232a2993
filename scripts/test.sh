#!/usr/bin/env bash
# `npm test`: type-check, then every test file with Node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${HOMELAB_CHART_CACHE:-}" ] && [ -d ../shared/charts ]; then
  export HOMELAB_CHART_CACHE="$(cd ../shared/charts && pwd)"
fi
npx tsc --noEmit -p tsconfig.json
node scripts/run-tests.mjs "$@"
