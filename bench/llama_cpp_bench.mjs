#!/usr/bin/env node
// llama.cpp (npm node-llama-cpp, prebuilt CPU binary) on a GGUF file, as the baseline
// of bench/runtime_bench.py: prefill tokens/s of a prompt, decode tokens/s of one
// sequence, and aggregate decode tokens/s of B concurrent sequences. Prints one JSON
// object. Needs `npm ci --prefix tests/checkers` (node-llama-cpp is pinned there).
//
//   node bench/llama_cpp_bench.mjs --model FILE [--threads T] [--prompt-tokens 128]
//        [--gen-tokens 64] [--batch 8]
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../tests/checkers/package.json"));
const { getLlama, LlamaLogLevel } = await import(require.resolve("node-llama-cpp"));

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    threads: { type: "string", default: "1" },
    "prompt-tokens": { type: "string", default: "128" },
    "gen-tokens": { type: "string", default: "64" },
    batch: { type: "string", default: "8" },
  },
});
if (!values.model) {
  process.stderr.write("llama_cpp_bench: --model is required\n");
  process.exit(2);
}
const threads = Number(values.threads);
const promptTokens = Number(values["prompt-tokens"]);
const genTokens = Number(values["gen-tokens"]);
const batch = Number(values.batch);

const llama = await getLlama({ gpu: false, build: "never", usePrebuiltBinaries: true,
                               logLevel: LlamaLogLevel.error, progressLogs: false });
const model = await llama.loadModel({ modelPath: values.model, gpuLayers: 0, useMmap: true });
const vocab = model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length ?? model.fileInsights.vocabularySize;
let seed = 1;
const randomToken = () => 3 + ((seed = (seed * 1103515245 + 12345) % 2147483648) % (vocab - 3));
const prompt = (n) => [model.tokens.bos ?? 1, ...Array.from({ length: n - 1 }, randomToken)];
const contextSize = promptTokens + genTokens + 8;

async function decode(sequence, tokens, n) {
  let produced = 0;
  for await (const token of sequence.evaluate(tokens, { temperature: 0 })) {
    void token;
    if (++produced >= n) break;
  }
  return produced;
}

// Prefill and decode of one sequence.
const single = await model.createContext({ contextSize, sequences: 1, threads,
                                           batchSize: 512, flashAttention: false });
const s0 = single.getSequence();
let start = performance.now();
await s0.evaluateWithoutGeneratingNewTokens(prompt(promptTokens));
const prefillSeconds = (performance.now() - start) / 1000;
start = performance.now();
const decoded = await decode(s0, [randomToken()], genTokens);
const decodeSeconds = (performance.now() - start) / 1000;
await single.dispose();

// B sequences decoding together (llama.cpp batches them into one decode call).
const multi = await model.createContext({ contextSize: contextSize * batch, sequences: batch,
                                          threads, batchSize: 512, flashAttention: false });
const sequences = Array.from({ length: batch }, () => multi.getSequence());
await Promise.all(sequences.map((s) => s.evaluateWithoutGeneratingNewTokens(prompt(16))));
start = performance.now();
const counts = await Promise.all(sequences.map((s) => decode(s, [randomToken()], genTokens)));
const aggregateSeconds = (performance.now() - start) / 1000;
await multi.dispose();

process.stdout.write(JSON.stringify({
  engine: "llama.cpp (node-llama-cpp)",
  threads,
  prompt_tokens: promptTokens,
  prefill_tokens_per_second: promptTokens / prefillSeconds,
  decode_tokens_per_second: decoded / decodeSeconds,
  batch,
  aggregate_decode_tokens_per_second: counts.reduce((a, b) => a + b, 0) / aggregateSeconds,
}) + "\n");
await model.dispose();
await llama.dispose();
