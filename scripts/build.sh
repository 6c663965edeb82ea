#!/usr/bin/env bash
# Configures and builds llmops into build/ (optimized programs; unit tests and fuzz
# targets against ASan+UBSan copies of the libraries). Extra arguments go to cmake.
#   scripts/build.sh --programs   only the three programs (llmops-operator, llmops-router,
#                                 llmops-runtime), no sanitizer or fuzz copies: what the
#                                 container images (images/) build
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CC:=clang}"
: "${CXX:=clang++}"
export CC CXX
jobs="${LLMOPS_BUILD_JOBS:-$(nproc)}"
targets=()
if [ "${1:-}" = "--programs" ]; then
  shift
  targets=(--target llmops-operator llmops-router llmops-runtime)
  set -- -DLLMOPS_SANITIZE_UNIT_TESTS=OFF -DLLMOPS_FUZZ=OFF "$@"
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j "$jobs" "${targets[@]}"
