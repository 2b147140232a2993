#!/usr/bin/env bash
# `npm start`: build the default config (Sky Palette) and print the summary.
# Helm values are checked against the committed chart lock in charts/, so nothing beside the checkout is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
# The bundled CLI, rebuilt when a source changed since it was made (cheap when current).
node scripts/build-cli.mjs --if-stale
exec node bin/homelab.mjs build "$@"
