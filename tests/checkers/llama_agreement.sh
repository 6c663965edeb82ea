#!/usr/bin/env bash
# llama_agreement.sh RUNTIME NODE SHARED_DIR OUT_DIR [PROMPT]   (no PROMPT: the empty prompt)
# Converts the test model to F32 GGUF with `llmops-runtime convert`, then decodes PROMPT
# greedily with our runtime (`generate --temperature 0 --print-ids`) and with llama.cpp
# (node-llama-cpp) fed the same BOS + prompt ids, and requires identical id sequences
# (BOS, prompt, generated tokens up to and including EOS or until the 128-token context
# is full). Also requires our prompt tokenization to equal llama.cpp's.
set -euo pipefail
[ $# -eq 4 ] || [ $# -eq 5 ] || { echo "usage: $0 RUNTIME NODE SHARED_DIR OUT_DIR [PROMPT]" >&2; exit 2; }
RUNTIME="$1" SHARED="$3" OUT="$4" PROMPT="${5:-}"
source "$(dirname "$0")/common.sh"
checkers_init "$2"

MODELS="$SHARED/models"
[ -f "$MODELS/aidreams260K.bin" ] || checkers_die "test model not found: $MODELS/aidreams260K.bin"
rm -rf "$OUT" && mkdir -p "$OUT"
gguf="$OUT/aidreams260K-f32.gguf"
"$RUNTIME" convert --in "$MODELS/aidreams260K.bin" --tokenizer "$MODELS/tok512.bin" \
  --out "$gguf" --type f32

MAX_TOKENS=200 # more than the context holds: both stop at EOS or at the context's end

# BOS + prompt ids as our runtime tokenizes them.
ours_prompt="$("$RUNTIME" generate --model "$gguf" --prompt "$PROMPT" --max-tokens 0 \
  --temperature 0 --print-ids 2>"$OUT/ours_prompt.err")" ||
  { cat "$OUT/ours_prompt.err" >&2; checkers_die "llmops-runtime generate --max-tokens 0 failed"; }
ours_prompt="$(tr -s ' \t\n' '   ' <<<"$ours_prompt" | sed 's/^ //; s/ $//')"
llama_prompt="$(llama_greedy --model "$gguf" --tokenize "$PROMPT")"
echo "prompt \"$PROMPT\": ours     $ours_prompt"
echo "prompt \"$PROMPT\": llama.cpp $llama_prompt"
[ "${ours_prompt%% *}" = "1" ] || checkers_die "our prompt ids do not start with BOS (1): $ours_prompt"

ours="$("$RUNTIME" generate --model "$gguf" --prompt "$PROMPT" --max-tokens "$MAX_TOKENS" \
  --temperature 0 --seed 1 --print-ids 2>"$OUT/ours.err")" ||
  { cat "$OUT/ours.err" >&2; checkers_die "llmops-runtime generate failed"; }
ours="$(tr -s ' \t\n' '   ' <<<"$ours" | sed 's/^ //; s/ $//')"
theirs="$(llama_greedy --model "$gguf" --tokens "$ours_prompt" --n "$MAX_TOKENS")" ||
  checkers_die "llama_greedy.mjs failed"
echo "$ours" >"$OUT/ours.txt"
echo "$theirs" >"$OUT/llama.txt"

status=0
if [ "$ours_prompt" != "$llama_prompt" ]; then
  echo "MISMATCH: prompt tokenization differs from llama.cpp's" >&2
  status=1
fi
if [ "$ours" != "$theirs" ]; then
  read -ra a <<<"$ours"
  read -ra b <<<"$theirs"
  i=0
  while [ $i -lt ${#a[@]} ] && [ $i -lt ${#b[@]} ] && [ "${a[$i]}" = "${b[$i]}" ]; do i=$((i + 1)); done
  {
    echo "MISMATCH: greedy ids differ from llama.cpp's at position $i" \
      "(ours ${a[$i]:-<end>}, llama.cpp ${b[$i]:-<end>}; ours has ${#a[@]} ids, llama.cpp ${#b[@]})"
    echo "ours:      $ours"
    echo "llama.cpp: $theirs"
  } >&2
  status=1
fi
[ $status -eq 0 ] || checkers_die "llmops-runtime and llama.cpp disagree on \"$PROMPT\""
echo "ids ($(wc -w <<<"$ours")): $ours"
echo "PASS: llmops-runtime and llama.cpp agree on \"$PROMPT\""
