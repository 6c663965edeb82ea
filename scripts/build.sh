#!/usr/bin/env bash
# Configures and builds llmops into build/ (optimized programs; unit tests and fuzz
# targets against ASan+UBSan copies of the libraries). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CC:=clang}"
: "${CXX:=clang++}"
export CC CXX
jobs="${LLMOPS_BUILD_JOBS:-$(nproc)}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j "$jobs"
