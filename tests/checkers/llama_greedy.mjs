#!/usr/bin/env node
// Greedy decoding with llama.cpp (npm node-llama-cpp, its prebuilt CPU binary), as an
// independent reference for `llmops-runtime generate --temperature 0 --print-ids`.
//
//   node llama_greedy.mjs --model FILE --tokens "1 2 3" --n N [--threads T] [--context C]   (T default 1)
//     Feeds the given token ids as they are (BOS must be included by the caller; nothing
//     is added), then samples greedily (temperature 0, no penalties) up to N new tokens,
//     stopping after EOS (id 2 for the test model: the model's EOS) or when the context
//     is full (positions 0..C-1 fed, one more token sampled). Prints the whole sequence
//     (given + generated, EOS included if generated) on one line, space separated.
//   node llama_greedy.mjs --model FILE --tokenize "TEXT"
//     Prints llama.cpp's tokenization of TEXT with BOS, for information.
//   node llama_greedy.mjs --model FILE --prompt "TEXT" --n N
//     As --tokens, fed llama.cpp's tokenization of TEXT (BOS first when the model asks
//     for it, special tokens as plain text).
//
// Exit status: 0 on success, 1 on a load/evaluation error, 2 on a usage error.
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";

function usage(message) {
  process.stderr.write(`llama_greedy: ${message}\n` +
    "usage: llama_greedy.mjs --model FILE (--tokens \"1 2 3\" --n N | --tokenize TEXT) " +
    "[--threads T] [--context C]\n");
  process.exit(2);
}

function parseIntArg(name, text, min) {
  if (!/^\d+$/.test(text ?? "")) usage(`--${name} needs a non-negative integer, got "${text}"`);
  const v = Number.parseInt(text, 10);
  if (v < min) usage(`--${name} must be >= ${min}`);
  return v;
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      model: { type: "string" },
      tokens: { type: "string" },
      n: { type: "string" },
      threads: { type: "string" },
      context: { type: "string" },
      tokenize: { type: "string" },
      prompt: { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (e) {
  usage(e.message);
}
if (!values.model) usage("--model is required");
if (!existsSync(values.model)) usage(`model file not found: ${values.model}`);
const tokenizeMode = values.tokenize !== undefined;
if (!tokenizeMode && ((values.tokens === undefined) === (values.prompt === undefined) || values.n === undefined))
  usage("give --tokens or --prompt, and --n; or --tokenize");
// One thread by default: the test models are tiny, and llama.cpp's worker threads spin while
// they wait, which on a loaded 2-core machine (parallel ctest, compilers) made a 120-token
// run take 40-90 s instead of 1-2 s.
const threads = values.threads !== undefined ? parseIntArg("threads", values.threads, 1) : 1;

let nodeLlamaCpp;
try {
  nodeLlamaCpp = await import("node-llama-cpp");
} catch (e) {
  process.stderr.write(`llama_greedy: cannot load node-llama-cpp (${e.message}): run npm ci in tests/checkers\n`);
  process.exit(1);
}
const { getLlama, LlamaLogLevel } = nodeLlamaCpp;

function fail(message) {
  process.stderr.write(`llama_greedy: ${message}\n`);
  process.exit(1);
}

let llama;
let model;
try {
  // The prebuilt CPU binary only: never download or compile llama.cpp.
  llama = await getLlama({
    gpu: false,
    build: "never",
    usePrebuiltBinaries: true,
    logLevel: LlamaLogLevel.error,
    progressLogs: false,
  });
  model = await llama.loadModel({ modelPath: values.model, gpuLayers: 0, useMmap: true });
} catch (e) {
  fail(`llama.cpp could not load ${values.model}: ${e.stack ?? e}`);
}

if (tokenizeMode) {
  const ids = model.tokenize(values.tokenize, false);
  const bos = model.tokens.bos;
  const all = bos != null && model.tokens.shouldPrependBosToken ? [bos, ...ids] : ids;
  process.stdout.write(all.join(" ") + "\n");
  await model.dispose();
  process.exit(0);
}

function promptTokens(text) {
  const ids = model.tokenize(text, false);
  const bos = model.tokens.bos;
  return bos != null && model.tokens.shouldPrependBosToken ? [bos, ...ids] : ids;
}
const given = values.prompt !== undefined ? promptTokens(values.prompt)
  : values.tokens.trim() === "" ? [] : values.tokens.trim().split(/\s+/).map((t) => {
  if (!/^\d+$/.test(t)) usage(`--tokens: "${t}" is not a token id`);
  return Number.parseInt(t, 10);
});
if (given.length === 0) usage("--tokens is empty (include BOS)");
const nMax = parseIntArg("n", values.n, 0);
const vocabSize = model.fileInsights.vocabularySize ?? model.tokens?.size;
const trainContext = model.trainContextSize;
const contextSize = values.context !== undefined ? parseIntArg("context", values.context, 1) : trainContext;
for (const t of given) {
  if (vocabSize != null && t >= vocabSize) fail(`token id ${t} is outside the vocabulary (${vocabSize})`);
}
if (given.length > contextSize) fail(`${given.length} tokens do not fit the context (${contextSize})`);
const eos = model.tokens.eos;

// node-llama-cpp always keeps one cell of a sequence free (it shifts the context before
// filling the last one), so ask for one more cell than the positions we feed.
const context = await model.createContext({
  contextSize: contextSize + 1,
  sequences: 1,
  threads,
  batchSize: Math.max(1, Math.min(contextSize, 512)),
  flashAttention: false,
  // Keys and values in F32 (llama.cpp's default is F16), as our runtime keeps them.
  experimentalKvCacheKeyType: "F32",
  experimentalKvCacheValueType: "F32",
});
if (context.contextSize < contextSize + 1)
  fail(`llama.cpp made a context of ${context.contextSize} tokens, ${contextSize + 1} asked`);
const sequence = context.getSequence();

const out = [...given];
let generated = 0;
if (nMax > 0) {
  // evaluate() feeds `given` as is (no BOS added), yields each sampled token and feeds it
  // back when asked for the next one. temperature 0 selects llama.cpp's greedy sampler.
  const iterator = sequence.evaluate(given, {
    temperature: 0,
    yieldEogToken: true,
  });
  for await (const token of iterator) {
    out.push(token);
    generated += 1;
    if (token === eos || model.isEogToken?.(token)) break;
    if (generated >= nMax) break;
    // Every fed token occupies one position: once positions 0..contextSize-1 are fed the
    // token just sampled (from the last position) cannot be fed any more.
    if (sequence.nextTokenIndex >= contextSize) break;
  }
  if (sequence.nextTokenIndex > contextSize || sequence.contextTokens[0] !== given[0]) {
    fail(`internal: the context was shifted (${sequence.nextTokenIndex} tokens fed, limit ${contextSize})`);
  }
}
process.stdout.write(out.join(" ") + "\n");

await context.dispose();
await model.dispose();
await llama.dispose();
