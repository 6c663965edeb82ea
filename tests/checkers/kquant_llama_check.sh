#!/usr/bin/env bash
# kquant_llama_check.sh RUNTIME NODE SHARED_DIR OUT_DIR WIDEN_MODEL TYPE N
# The trained test model widened to dim 256 (WIDEN_MODEL, tests/engine/widen_model.h:
# the same function, K-quant super-blocks fit), `llmops-runtime convert --in` to TYPE;
# then for two prompts llama.cpp (node-llama-cpp) and llmops-runtime decode greedily and
# the first N generated ids must be equal. llama.cpp decodes every block with its own
# code, so this checks each type's bit layout end to end; a trained model's logits have
# margins, so rounding differences between the two engines rarely decide a token.
set -euo pipefail
[ $# -eq 7 ] || { echo "usage: $0 RUNTIME NODE SHARED_DIR OUT_DIR WIDEN_MODEL TYPE N" >&2; exit 2; }
RUNTIME="$1" SHARED="$3" OUT="$4" WIDEN="$5" TYPE="$6" N="$7"
source "$(dirname "$0")/common.sh"
checkers_init "$2"

rm -rf "$OUT" && mkdir -p "$OUT"
"$WIDEN" "$SHARED/models" "$OUT/aidreams-f32.gguf" "$OUT/wide-f32.gguf"
gguf="$OUT/wide-$TYPE.gguf"
"$RUNTIME" convert --in "$OUT/wide-f32.gguf" --type "$TYPE" --out "$gguf"

for prompt in "The robot" "Whispers of"; do
  ours_prompt="$("$RUNTIME" generate --model "$gguf" --prompt "$prompt" --max-tokens 0 \
    --temperature 0 --print-ids 2>"$OUT/ours_prompt.err")" ||
    { cat "$OUT/ours_prompt.err" >&2; checkers_die "llmops-runtime generate --max-tokens 0 failed"; }
  ours_prompt="$(tr -s ' \t\n' '   ' <<<"$ours_prompt" | sed 's/^ //; s/ $//')"
  ours="$("$RUNTIME" generate --model "$gguf" --prompt "$prompt" --max-tokens "$N" \
    --temperature 0 --seed 1 --print-ids 2>"$OUT/ours.err")" ||
    { cat "$OUT/ours.err" >&2; checkers_die "llmops-runtime generate failed"; }
  ours="$(tr -s ' \t\n' '   ' <<<"$ours" | sed 's/^ //; s/ $//')"
  theirs="$(llama_greedy --model "$gguf" --tokens "$ours_prompt" --n "$N")" ||
    checkers_die "llama_greedy.mjs failed"
  echo "\"$prompt\" ours:      $ours"
  echo "\"$prompt\" llama.cpp: $theirs"
  [ "$ours" = "$theirs" ] ||
    checkers_die "$TYPE: greedy ids for \"$prompt\" differ from llama.cpp's within $N tokens"
done
echo "PASS: llama.cpp and llmops-runtime agree on $N greedy tokens of the $TYPE model"
