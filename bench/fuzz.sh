#!/usr/bin/env bash
# Long fuzzing (not CI): runs every libFuzzer target of the build for at least RUNS
# executions (10 million by default) on a corpus kept between runs, seeded from the
# repository's seeds, and prints executions, coverage and corpus size per target.
#
#   bench/fuzz.sh [BUILD_DIR] [TARGET...]      # e.g. bench/fuzz.sh build router_static_config_fuzz
#   RUNS=1000000 CORPUS_DIR=~/fuzz-corpus bench/fuzz.sh
#
# A crash stops that target, keeps the input as CORPUS_DIR/<target>-crash-* and makes the
# script exit 1 after the others ran. One process per target, one after the other.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
shift || true
runs="${RUNS:-10000000}"
corpus_root="${CORPUS_DIR:-$build/fuzz-corpus}"
mkdir -p "$corpus_root"

# Seed directories by target (the same the ctest runs use).
declare -A seeds=(
  [gguf_fuzz]=tests/fuzz/corpus/gguf_fuzz
  [llama2c_fuzz]=tests/fuzz/corpus/llama2c_fuzz
  [tokenizer_fuzz]=tests/fuzz/corpus/tokenizer_fuzz
  [devcluster_request_decoding_fuzz]=tests/devcluster/fuzz_corpus
  [operator_watch_decoder_fuzz]=tests/operator/fuzz_corpus
  [operator_kubeconfig_fuzz]=tests/operator/kubeconfig_fuzz_corpus
  [server_openai_request_fuzz]=tests/server/fuzz_corpus/openai_request
  [router_static_config_fuzz]=tests/router/fuzz_corpus/static_config
  [reconcilers_prometheus_text_fuzz]=tests/reconcilers/fuzz_corpus/prometheus_text
)

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(find "$build" -type f -perm -u+x -name '*_fuzz' -printf '%f\n' | sort)
fi
[ "${#targets[@]}" -gt 0 ] || { echo "no *_fuzz binaries under $build (configure with LLMOPS_FUZZ=ON)" >&2; exit 2; }

failed=0
printf '%-36s %14s %8s %8s %8s %9s %s\n' target executions cov ft corpus seconds result
for target in "${targets[@]}"; do
  binary=$(find "$build" -type f -perm -u+x -name "$target" | head -1)
  [ -n "$binary" ] || { echo "$target: not built" >&2; failed=1; continue; }
  binary=$(realpath "$binary")
  corpus="$corpus_root/$target"
  mkdir -p "$corpus"
  seed="${seeds[$target]:-}"
  if [ -n "$seed" ] && [ -d "$seed" ]; then
    find "$seed" -type f -exec cp -n {} "$corpus/" \;
  fi
  log="$corpus_root/$target.log"
  start=$(date +%s)
  set +e
  ASAN_OPTIONS=detect_leaks=1 "$binary" -runs="$runs" -max_len=65536 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$corpus_root/$target-" "$corpus" >"$log" 2>&1
  rc=$?
  set -e
  seconds=$(( $(date +%s) - start ))
  executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s+=$2} END {print s+0}')
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  files=$(find "$corpus" -type f | wc -l)
  result=ok
  if [ "$rc" -ne 0 ]; then result="FAILED (exit $rc, see $log)"; failed=1; fi
  printf '%-36s %14s %8s %8s %8s %9s %s\n' "$target" "$executions" "${cov:-?}" "${ft:-?}" "$files" "$seconds" "$result"
done
exit "$failed"
