#!/usr/bin/env bash
# Builds llmops and runs the whole test suite with ctest (labels: unit, fuzz,
# integration, e2e). Extra arguments go to ctest, e.g. `scripts/test.sh -L unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
# The independent checkers from npm (pinned by tests/checkers/package-lock.json).
if [ -f tests/checkers/package-lock.json ]; then
  NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --prefix tests/checkers --no-audit --no-fund
fi
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
