#!/bin/sh
# llmops-runtime's placement flags end to end: `topology` prints one JSON object,
# impossible --threads and unknown --numa are usage errors (exit 2), and greedy
# `generate` prints the same token ids with --numa none, bind and interleave.
# Usage: cli_test.sh RUNTIME WORK_DIR
set -eu
runtime=$1
work=$2
rm -rf "$work"
mkdir -p "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }

"$runtime" topology --threads 1 --numa bind > "$work/topology.json"
python3 - "$work/topology.json" <<'PY' || fail "topology JSON"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["topology"]["source"] == "this-system", j
assert j["plan"]["threads"] == 1, j["plan"]
assert j["plan"]["memory_policy"] == "bind" and j["plan"]["memory_nodes"] == [0], j["plan"]
assert "explanation" in j["plan"]
PY

set +e
"$runtime" topology --threads 1025 > /dev/null 2>&1; [ $? -eq 2 ] || fail "--threads 1025"
"$runtime" topology --threads 1024 > /dev/null 2>&1; [ $? -eq 2 ] || fail "--threads 1024 (more than the cores)"
"$runtime" topology --numa mirror > /dev/null 2> "$work/err.txt"; [ $? -eq 2 ] || fail "--numa mirror"
set -e
grep -q "bind, interleave or none" "$work/err.txt" || fail "--numa message: $(cat "$work/err.txt")"

"$runtime" make-model --dim 64 --hidden 128 --layers 2 --heads 4 --context 64 --type q8_0 \
  --out "$work/m.gguf" > /dev/null
for policy in none bind interleave; do
  "$runtime" generate --model "$work/m.gguf" --prompt "hello numa" --max-tokens 24 \
    --temperature 0 --print-ids --numa "$policy" > "$work/ids-$policy.txt" \
    2> "$work/log-$policy.txt"
  grep -q "placement threads=" "$work/log-$policy.txt" || fail "no placement log ($policy)"
done
cmp "$work/ids-none.txt" "$work/ids-bind.txt" || fail "bind changed the output"
cmp "$work/ids-none.txt" "$work/ids-interleave.txt" || fail "interleave changed the output"
grep -q "method=membind bound_bytes=[1-9][0-9]* landed=0:" "$work/log-bind.txt" ||
  fail "bind log: $(cat "$work/log-bind.txt")"
echo ok
