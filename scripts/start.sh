#!/usr/bin/env bash
# `npm start`: build the default config (Sky Palette) and print the summary, then generate the docs/status
# site from the same config and serve it on localhost until Ctrl-C (apps/site/src/start.ts, docs/site.md).
# Helm values are checked against the committed chart lock in charts/, so nothing beside the checkout is needed.
# HOMELAB_SITE=off stops after the build; HOMELAB_SITE=generate generates the site without serving it.
set -euo pipefail
cd "$(dirname "$0")/.."
# The bundled CLI, rebuilt when a source changed since it was made (cheap when current).
node scripts/build-cli.mjs --if-stale
node bin/homelab.mjs build "$@"
[ "${HOMELAB_SITE:-serve}" = off ] && exit 0
exec node --import tsx apps/site/src/start.ts "$@"
