#!/usr/bin/env bash
# convert_check.sh RUNTIME NODE SHARED_DIR OUT_DIR TYPE
# `llmops-runtime convert` of the test model (aidreams260K.bin + tok512.bin) to TYPE
# (f32|f16|bf16|q8_0|q4_0|q6_k|q4_k_m|...); @huggingface/gguf must parse the result and find the expected
# llama layout, metadata, vocabulary and tensor types; llama.cpp must load it.
set -euo pipefail
[ $# -eq 5 ] || { echo "usage: $0 RUNTIME NODE SHARED_DIR OUT_DIR TYPE" >&2; exit 2; }
RUNTIME="$1" SHARED="$3" OUT="$4" TYPE="$5"
source "$(dirname "$0")/common.sh"
checkers_init "$2"

MODELS="$SHARED/models"
[ -f "$MODELS/aidreams260K.bin" ] || checkers_die "test model not found: $MODELS/aidreams260K.bin"
rm -rf "$OUT" && mkdir -p "$OUT"
gguf="$OUT/aidreams260K-$TYPE.gguf"
"$RUNTIME" convert --in "$MODELS/aidreams260K.bin" --tokenizer "$MODELS/tok512.bin" \
  --out "$gguf" --type "$TYPE"

# wt: the tensor type; ft: llama.cpp's general.file_type (LLAMA_FTYPE_ALL_F32 0,
# MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7, Q4_K_M 15, Q5_K_M 17, Q6_K 18, BF16 32).
case "$TYPE" in
  f32) wt=F32 ft=0 ;;
  f16) wt=F16 ft=1 ;;
  bf16) wt=BF16 ft=32 ;;
  q8_0) wt=Q8_0 ft=7 ;;
  q4_0) wt=Q4_0 ft=2 ;;
  q6_k) wt=Q6_K ft=18 ;;
  q4_k_m) wt=Q4_K ft=15 ;;
  q5_k_m) wt=Q5_K ft=17 ;;
  *) checkers_die "unknown type $TYPE" ;;
esac
# ffn_down rows are hidden_dim = 172 long, not a multiple of 32: F16 for quantized types.
# The other rows (64) are no whole K-quant super-block: Q8_0 for the K types (and for
# the mixes' classifier, token_embd here), as llama.cpp falls back.
case "$TYPE" in
  f32) down=F32 q=F32 ;;
  bf16) down=BF16 q=BF16 ;;
  q6_k | q4_k_m | q5_k_m) down=F16 q=Q8_0 ;;
  *) down=F16 q=$wt ;;
esac

expect=$(cat <<JSON
{
  "version": 3,
  "architecture": "llama",
  "tensor_count": 38,
  "llama_layers": 4,
  "output_weight": false,
  "metadata": {
    "general.file_type": $ft,
    "llama.context_length": 128,
    "llama.embedding_length": 64,
    "llama.block_count": 4,
    "llama.feed_forward_length": 172,
    "llama.attention.head_count": 4,
    "llama.attention.head_count_kv": 4,
    "llama.rope.dimension_count": 16,
    "llama.attention.layer_norm_rms_epsilon": 1e-5,
    "llama.rope.freq_base": 10000,
    "tokenizer.ggml.model": "llama",
    "tokenizer.ggml.bos_token_id": 1,
    "tokenizer.ggml.eos_token_id": 2,
    "tokenizer.ggml.add_bos_token": true
  },
  "array_lengths": {
    "tokenizer.ggml.tokens": 512,
    "tokenizer.ggml.scores": 512,
    "tokenizer.ggml.token_type": 512
  },
  "shapes": {
    "token_embd.weight": [64, 512],
    "blk.0.attn_q.weight": [64, 64],
    "blk.0.ffn_gate.weight": [64, 172],
    "blk.3.ffn_down.weight": [172, 64],
    "output_norm.weight": [64]
  },
  "dtypes": {
    "blk.*.ffn_down.weight": "$down",
    "*norm.weight": "F32",
    "blk.*.attn_q.weight": "$q"
  },
  "weight_type": "$wt",
  "no_space_in_tokens": true,
  "byte_tokens_type": 6,
  "tokenizer_bin": $(json_str "$MODELS/tok512.bin")
}
JSON
)
gguf_check "$gguf" "$expect"
llama_load_check "$gguf"
echo "PASS: convert --type $TYPE"
