#!/usr/bin/env bash
# The main job: llmops-devcluster, llmops-operator and llmops-router on this machine, the
# sample manifests/samples/demo.yaml applied, traffic through the router, a canary
# promoted and a failing canary rolled back, with a live view (scripts/demo.py).
#   scripts/demo.sh          run it and leave everything up to explore
#   scripts/demo.sh stop     stop it
#   scripts/demo.sh --ci     run it, stop it, exit 1 unless it went as expected
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 scripts/demo.py "$@"
