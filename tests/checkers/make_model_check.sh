#!/usr/bin/env bash
# make_model_check.sh RUNTIME NODE SHARED_DIR OUT_DIR TYPE DIM HIDDEN LAYERS HEADS KV_HEADS CONTEXT [VOCAB_FROM]
# `llmops-runtime make-model` with these hyperparameters (and a vocabulary from the
# tokenizer.bin VOCAB_FROM, else the byte-level one: <unk>, <s>, </s>, 256 byte tokens, "▁";
# a classifier of its own, output.weight, as Llama models have);
# @huggingface/gguf must parse it with the expected layout; llama.cpp must load it.
set -euo pipefail
[ $# -eq 11 ] || [ $# -eq 12 ] ||
  { echo "usage: $0 RUNTIME NODE SHARED_DIR OUT_DIR TYPE DIM HIDDEN LAYERS HEADS KV_HEADS CONTEXT [VOCAB_FROM]" >&2; exit 2; }
RUNTIME="$1" OUT="$4" TYPE="$5" DIM="$6" HIDDEN="$7" LAYERS="$8" HEADS="$9" KV="${10}" CTX="${11}"
VOCAB_FROM="${12:-}"
source "$(dirname "$0")/common.sh"
checkers_init "$2"

rm -rf "$OUT" && mkdir -p "$OUT"
gguf="$OUT/model-$TYPE.gguf"
args=(make-model --dim "$DIM" --hidden "$HIDDEN" --layers "$LAYERS" --heads "$HEADS"
  --kv-heads "$KV" --context "$CTX" --type "$TYPE" --out "$gguf" --seed 7)
[ -n "$VOCAB_FROM" ] && args+=(--vocab-from "$VOCAB_FROM")
"$RUNTIME" "${args[@]}"

case "$TYPE" in
  f32) wt=F32 ;;
  f16) wt=F16 ;;
  q8_0) wt=Q8_0 ;;
  q4_0) wt=Q4_0 ;;
  bf16) wt=BF16 ;;
  q4_k) wt=Q4_K ;;
  q5_k) wt=Q5_K ;;
  q6_k) wt=Q6_K ;;
  *) checkers_die "unknown type $TYPE" ;;
esac
if [ -n "$VOCAB_FROM" ]; then
  # llama2.c tokenizer.bin: uint32 max_token_length, then per token float32, int32 len, bytes.
  n_vocab=$("$CHECKERS_NODE" -e '
    const d = require("fs").readFileSync(process.argv[1]); let p = 4, n = 0;
    while (p < d.length) { p += 8 + d.readInt32LE(p + 4); n++; }
    console.log(n);' "$VOCAB_FROM") || n_vocab=""
  [ -n "$n_vocab" ] || checkers_die "cannot count the tokens of $VOCAB_FROM"
  vocab_expect="\"tokenizer_bin\": $(json_str "$VOCAB_FROM"),"
else
  n_vocab=260
  vocab_expect=""
fi
expect=$(cat <<JSON
{
  "version": 3,
  "architecture": "llama",
  "tensor_count": $((9 * LAYERS + 3)),
  "llama_layers": $LAYERS,
  "output_weight": true,
  "metadata": {
    "llama.context_length": $CTX,
    "llama.embedding_length": $DIM,
    "llama.block_count": $LAYERS,
    "llama.feed_forward_length": $HIDDEN,
    "llama.attention.head_count": $HEADS,
    "llama.attention.head_count_kv": $KV,
    "tokenizer.ggml.model": "llama",
    "tokenizer.ggml.bos_token_id": 1,
    "tokenizer.ggml.eos_token_id": 2
  },
  "array_lengths": {
    "tokenizer.ggml.tokens": $n_vocab,
    "tokenizer.ggml.scores": $n_vocab,
    "tokenizer.ggml.token_type": $n_vocab
  },
  "shapes": {
    "token_embd.weight": [$DIM, $n_vocab],
    "output.weight": [$DIM, $n_vocab],
    "blk.0.attn_k.weight": [$DIM, $((DIM * KV / HEADS))],
    "blk.0.ffn_down.weight": [$HIDDEN, $DIM]
  },
  "weight_type": "$wt",
  $vocab_expect
  "no_space_in_tokens": true,
  "byte_tokens_type": 6
}
JSON
)
gguf_check "$gguf" "$expect"
llama_load_check "$gguf"
echo "PASS: make-model --type $TYPE ${VOCAB_FROM:+--vocab-from $VOCAB_FROM}"
