#!/usr/bin/env bash
# convert_gguf_check.sh RUNTIME NODE SHARED_DIR OUT_DIR TYPE
# `llmops-runtime make-model` writes an F32 model whose rows are whole K-quant
# super-blocks (dim 256, hidden 768, 4 layers), `llmops-runtime convert --in` re-encodes
# that GGUF to TYPE (f32|f16|bf16|q8_0|q4_0|q4_k|q5_k|q6_k|q4_k_m|q5_k_m); then
#  - @huggingface/gguf parses the result with the tensor types of llama.cpp's rules
#    (for the mixes: output Q6_K, attn_v and ffn_down Q6_K in layers 2 and 3 of 4, the
#    rest the mix's K type; norms F32);
#  - llama.cpp (node-llama-cpp) loads it and generates.
# (Greedy agreement with llama.cpp per type: kquant_llama_check.sh, on a trained model;
# a random-weight model's near-ties make greedy ids differ even for Q8_0.)
set -euo pipefail
[ $# -eq 5 ] || { echo "usage: $0 RUNTIME NODE SHARED_DIR OUT_DIR TYPE" >&2; exit 2; }
RUNTIME="$1" OUT="$4" TYPE="$5"
source "$(dirname "$0")/common.sh"
checkers_init "$2"

rm -rf "$OUT" && mkdir -p "$OUT"
f32="$OUT/model-f32.gguf"
gguf="$OUT/model-$TYPE.gguf"
"$RUNTIME" make-model --dim 256 --hidden 768 --layers 4 --heads 4 --kv-heads 2 --context 128 \
  --type f32 --out "$f32" --seed 3
"$RUNTIME" convert --in "$f32" --type "$TYPE" --out "$gguf"

# ft: llama.cpp's general.file_type.
mix=""
case "$TYPE" in
  f32) wt=F32 ft=0 ;;
  f16) wt=F16 ft=1 ;;
  bf16) wt=BF16 ft=32 ;;
  q8_0) wt=Q8_0 ft=7 ;;
  q4_0) wt=Q4_0 ft=2 ;;
  q4_k) wt=Q4_K ft=14 ;;
  q5_k) wt=Q5_K ft=16 ;;
  q6_k) wt=Q6_K ft=18 ;;
  q4_k_m) wt=Q4_K ft=15 mix=1 ;;
  q5_k_m) wt=Q5_K ft=17 mix=1 ;;
  *) checkers_die "unknown type $TYPE" ;;
esac
if [ -n "$mix" ]; then
  types=$(cat <<JSON
  "dtypes": {
    "*norm.weight": "F32",
    "output.weight": "Q6_K",
    "token_embd.weight": "$wt",
    "blk.*.attn_q.weight": "$wt",
    "blk.*.attn_k.weight": "$wt",
    "blk.*.attn_output.weight": "$wt",
    "blk.*.ffn_gate.weight": "$wt",
    "blk.*.ffn_up.weight": "$wt",
    "blk.0.attn_v.weight": "$wt",
    "blk.1.attn_v.weight": "$wt",
    "blk.0.ffn_down.weight": "$wt",
    "blk.1.ffn_down.weight": "$wt",
    "blk.2.attn_v.weight": "Q6_K",
    "blk.3.attn_v.weight": "Q6_K",
    "blk.2.ffn_down.weight": "Q6_K",
    "blk.3.ffn_down.weight": "Q6_K"
  },
JSON
  )
else
  types="\"weight_type\": \"$wt\","
fi
expect=$(cat <<JSON
{
  "version": 3,
  "architecture": "llama",
  "llama_layers": 4,
  "output_weight": true,
  $types
  "metadata": {
    "general.file_type": $ft,
    "llama.embedding_length": 256,
    "llama.block_count": 4,
    "llama.feed_forward_length": 768,
    "tokenizer.ggml.model": "llama"
  }
}
JSON
)
gguf_check "$gguf" "$expect"
llama_load_check "$gguf"

echo "PASS: convert --in GGUF --type $TYPE"
