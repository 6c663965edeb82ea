#!/usr/bin/env bash
# Builds llmops and runs the whole test suite with ctest (labels: unit, fuzz,
# integration, e2e). Extra arguments go to ctest, e.g. `scripts/test.sh -L unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
# The independent clients and checkers from npm, pinned by their package-lock.json files.
for dir in tests/checkers tests/server/openai-client; do
  if [ -f "$dir/package-lock.json" ]; then
    NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --prefix "$dir" --no-audit --no-fund
  fi
done
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
