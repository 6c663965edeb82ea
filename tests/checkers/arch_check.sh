#!/usr/bin/env bash
# arch_check.sh RUNTIME NODE SHARED_DIR OUT_DIR ARCH VOCAB [MAKE_MODEL_ARGS...]
# A random-weight F32 model of architecture ARCH around the vocabulary VOCAB (as in
# tokenizer_check.sh), written by `make-model`; for several prompts our ids (`generate
# --temperature 0 --print-ids`: BOS as the vocabulary asks, the prompt, 24 greedy tokens)
# must equal llama.cpp's (node-llama-cpp, KV cache in F32) from its own tokenization of
# the prompt, with at least 16 tokens generated.
set -euo pipefail
[ $# -ge 6 ] || { echo "usage: $0 RUNTIME NODE SHARED_DIR OUT_DIR ARCH VOCAB [ARGS...]" >&2; exit 2; }
RUNTIME="$1" NODE_BIN="$2" SHARED="$3" OUT="$4" ARCH="$5" VOCAB="$6"
shift 6
source "$(dirname "$0")/common.sh"
checkers_init "$NODE_BIN"

case "$VOCAB" in
  @*) VOCAB="$CHECKERS_DIR/node_modules/$VOCAB" ;;
  shared:*) VOCAB="$SHARED/${VOCAB#shared:}" ;;
esac
[ -e "$VOCAB" ] || checkers_die "vocabulary not found: $VOCAB"
rm -rf "$OUT" && mkdir -p "$OUT"
gguf="$OUT/$ARCH.gguf"
"$RUNTIME" make-model --arch "$ARCH" --dim 64 --hidden 128 --layers 2 --heads 4 --kv-heads 2 \
  --context 128 --vocab-from "$VOCAB" --out "$gguf" --seed 3 "$@" 2>"$OUT/make-model.err" ||
  { cat "$OUT/make-model.err" >&2; checkers_die "make-model --arch $ARCH failed"; }

N_NEW=24
status=0
for prompt in "Hello world" "The robot whispers secrets, 42 of them. 日本語 🙂" \
  "<|im_start|>user <start_of_turn> not special"; do
  ours="$("$RUNTIME" generate --model "$gguf" --prompt "$prompt" --max-tokens "$N_NEW" \
    --temperature 0 --seed 1 --print-ids 2>"$OUT/ours.err")" ||
    { cat "$OUT/ours.err" >&2; checkers_die "llmops-runtime generate failed"; }
  # llama.cpp tokenizes the prompt itself (BOS as the model asks), then decodes greedily.
  theirs="$(llama_greedy --model "$gguf" --prompt "$prompt" --n "$N_NEW")" ||
    checkers_die "llama_greedy.mjs failed"
  if [ "$ours" != "$theirs" ]; then
    echo "MISMATCH \"$prompt\": ids differ (prompt tokenization or greedy choices)" >&2
    echo "  ours:      $ours" >&2
    echo "  llama.cpp: $theirs" >&2
    status=1
    continue
  fi
  # generate's timing line on stderr: "prompt: P tokens ...; generated G tokens ..."
  n_new="$(sed -n 's/.*generated \([0-9]*\) tokens.*/\1/p' "$OUT/ours.err")"
  if [ -z "$n_new" ] || [ "$n_new" -lt 16 ]; then
    echo "FAIL \"$prompt\": only ${n_new:-?} tokens generated (an end of generation came early)" >&2
    status=1
    continue
  fi
  echo "\"$prompt\": $(wc -w <<<"$ours") ids ($n_new generated) agree with llama.cpp"
done
[ $status -eq 0 ] || checkers_die "llmops-runtime and llama.cpp disagree on $ARCH (outputs in $OUT)"
echo "PASS: $ARCH greedy decoding agrees with llama.cpp"
