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
# ccache (installed by install-deps.sh) keeps compiled objects between builds and clones:
# in ~/.cache/ccache (CCACHE_DIR to move it), keyed by relative paths so that another
# checkout hits the same entries. CCACHE_DISABLE=1 turns it off.
launcher=()
if command -v ccache >/dev/null 2>&1 && [ -z "${CCACHE_DISABLE:-}" ]; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$PWD"
  # The debug builds (-g) would otherwise hash the build folder's absolute path too.
  export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" "$@"
cmake --build build -j "$jobs" "${targets[@]}"
