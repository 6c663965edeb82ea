# shellcheck shell=bash
# Sourced by the checker test scripts: locate node and the npm packages, and helpers.
# Needs CHECKERS_NODE set to the node executable (from CMake's find_program(NODE node)).

CHECKERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

checkers_die() {
  echo "FAIL: $*" >&2
  exit 1
}

# checkers_init NODE: checks that node and tests/checkers/node_modules are there.
checkers_init() {
  CHECKERS_NODE="$1"
  if [ -z "$CHECKERS_NODE" ] || [[ "$CHECKERS_NODE" == *NOTFOUND ]] || ! command -v "$CHECKERS_NODE" >/dev/null; then
    checkers_die "node (Node.js >= 20) was not found when CMake configured the build: install it and re-run cmake"
  fi
  local pkg
  for pkg in node-llama-cpp @node-llama-cpp/linux-x64 @huggingface/gguf @lenml/tokenizers; do
    if [ ! -f "$CHECKERS_DIR/node_modules/$pkg/package.json" ]; then
      checkers_die "$CHECKERS_DIR/node_modules/$pkg is missing: run npm ci in tests/checkers" \
        "(NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --prefix tests/checkers; scripts/test.sh does it)"
    fi
  done
}

# gguf_check FILE EXPECT_JSON: @huggingface/gguf parses FILE and it meets EXPECT_JSON.
gguf_check() {
  "$CHECKERS_NODE" "$CHECKERS_DIR/gguf_check.mjs" "$1" --quiet --expect-json "$2"
}

# llama_greedy ARGS...: llama.cpp (node-llama-cpp) greedy ids, one line.
llama_greedy() {
  "$CHECKERS_NODE" "$CHECKERS_DIR/llama_greedy.mjs" "$@"
}

# llama_load_check FILE: llama.cpp loads FILE and greedily samples a few tokens after BOS.
llama_load_check() {
  local ids
  ids="$(llama_greedy --model "$1" --tokens "1" --n 8)" ||
    checkers_die "llama.cpp (node-llama-cpp) could not load or run $1"
  local n
  n="$(wc -w <<<"$ids")"
  [ "$n" -ge 2 ] || checkers_die "llama.cpp generated nothing from $1 (got: $ids)"
  echo "llama.cpp loads $1: greedy ids after BOS: $ids"
}

# json_str TEXT: TEXT as a JSON string (paths here have no quotes or backslashes).
json_str() {
  case "$1" in *'"'* | *\\*) checkers_die "unsupported character in \"$1\"" ;; esac
  printf '"%s"' "$1"
}
