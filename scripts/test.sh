#!/usr/bin/env bash
# `npm test`: type-check, then every test file with Node's test runner. All test data is in the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc --noEmit -p tsconfig.json
# run-tests.mjs rebuilds the bundled CLI first when a source changed.
node scripts/run-tests.mjs "$@"
