#!/usr/bin/env bash
# tokenizer_check.sh RUNTIME NODE SHARED_DIR OUT_DIR VOCAB HF_PACKAGE PRE [AGREEMENT_ARGS...]
# `make-model --vocab-from VOCAB` (a tokenizer.json folder, or a tokenizer.bin; a path
# starting with @ is a folder of an npm package in node_modules) writes a small model with
# that vocabulary (and pre-tokenizer PRE unless "-"); `llmops-runtime tokenize` tokenizes
# the corpus of tokenizer_corpus.mjs with and without special tokens; then
# tokenizer_agreement.mjs requires the same ids as llama.cpp on the file (both ways) and as
# the Hugging Face tokenizer HF_PACKAGE (unless "-"), and decoding to give the text back.
set -euo pipefail
[ $# -ge 7 ] || { echo "usage: $0 RUNTIME NODE SHARED_DIR OUT_DIR VOCAB HF_PACKAGE PRE [ARGS...]" >&2; exit 2; }
RUNTIME="$1" NODE_BIN="$2" SHARED="$3" OUT="$4" VOCAB="$5" HF="$6" PRE="$7"
shift 7
source "$(dirname "$0")/common.sh"
checkers_init "$NODE_BIN"

case "$VOCAB" in
  @*) VOCAB="$CHECKERS_DIR/node_modules/$VOCAB" ;;
  shared:*) VOCAB="$SHARED/${VOCAB#shared:}" ;;
esac
[ -e "$VOCAB" ] || checkers_die "vocabulary not found: $VOCAB"
rm -rf "$OUT" && mkdir -p "$OUT"
gguf="$OUT/vocab.gguf"
args=(make-model --dim 32 --hidden 64 --layers 1 --heads 2 --context 64 --vocab-from "$VOCAB"
  --out "$gguf")
[ "$PRE" != "-" ] && args+=(--pre "$PRE")
"$RUNTIME" "${args[@]}" 2>"$OUT/make-model.err" ||
  { cat "$OUT/make-model.err" >&2; checkers_die "make-model --vocab-from $VOCAB failed"; }

"$CHECKERS_NODE" "$CHECKERS_DIR/tokenizer_corpus.mjs" "$OUT/corpus.json"
"$RUNTIME" tokenize --model "$gguf" --texts "$OUT/corpus.json" >"$OUT/ours-plain.json" ||
  checkers_die "llmops-runtime tokenize failed"
"$RUNTIME" tokenize --model "$gguf" --texts "$OUT/corpus.json" --special >"$OUT/ours-special.json" ||
  checkers_die "llmops-runtime tokenize --special failed"
agreement=(--model "$gguf" --corpus "$OUT/corpus.json" --ours-plain "$OUT/ours-plain.json"
  --ours-special "$OUT/ours-special.json" --out-dir "$OUT")
[ "$HF" != "-" ] && agreement+=(--hf "$HF")
"$CHECKERS_NODE" "$CHECKERS_DIR/tokenizer_agreement.mjs" "${agreement[@]}" "$@" ||
  checkers_die "tokenization differs (details above; outputs in $OUT)"
echo "PASS: tokenization of $(basename "$VOCAB") agrees"
