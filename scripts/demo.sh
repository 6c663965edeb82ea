#!/usr/bin/env bash
# The main job, for now: make a small model with random weights and generate text from
# it with the runtime. With ../shared/models present, also convert the trained test
# model to GGUF and generate from it (real text).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/node-runtime/llmops-runtime
out=demo-out
mkdir -p "$out"
"$bin" make-model --dim 256 --hidden 704 --layers 4 --heads 8 --kv-heads 4 --context 256 \
  --type q8_0 --out "$out/random-q8_0.gguf" --seed 7
echo "== random-weight model (q8_0): expect noise, at speed"
"$bin" generate --model "$out/random-q8_0.gguf" --prompt "Hello" --max-tokens 48 \
  --temperature 0.8 --seed 1
shared=../shared/models
if [ -f "$shared/aidreams260K.bin" ]; then
  "$bin" convert --in "$shared/aidreams260K.bin" --tokenizer "$shared/tok512.bin" \
    --type q8_0 --out "$out/aidreams-q8_0.gguf"
  echo "== trained test model, converted to GGUF q8_0"
  "$bin" generate --model "$out/aidreams-q8_0.gguf" --prompt "The robot" --max-tokens 100 \
    --temperature 0.8 --seed 1
fi
