#!/usr/bin/env node
// Parses a local GGUF file with npm's @huggingface/gguf (a parser we did not write),
// prints a JSON summary and checks it.
//
//   node gguf_check.mjs FILE [--expect-json JSON] [--quiet]
//
// Always checked (format facts): the file parses; tensor_count and kv_count match what
// was parsed; tensor names are unique; tensor offsets and the data section are aligned
// (general.alignment, default 32); each tensor of a known type (F32, F16, BF16, Q4_0,
// Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K) has rows that are a whole number of blocks and its bytes lie
// inside the file without overlapping another tensor. For general.architecture "llama"
// also the keys llama.cpp needs, with the types it reads them as, and the tensor shapes
// implied by them (token_embd = [embedding_length, vocab], attn_k = [E, E*kv/heads], ...).
//
// Expectations (--expect-json, every key optional):
//   version: 3                       architecture: "llama"
//   tensor_count: N                  kv_count: N
//   llama_layers: L                  the exact set of tensor names of a llama model with L
//   output_weight: false             blocks; output.weight present or not (default false:
//                                    classifier shared with token_embd)
//   tensor_names: [..]               the exact set of tensor names
//   metadata: {key: value}           exact values (float32 values compared as float32)
//   array_lengths: {key: N}          lengths of array values
//   shapes: {name: [d0, d1]}         tensor shapes, fastest-varying first
//   dtypes: {glob: T | [T..]}        every tensor whose name matches glob (* = any text)
//                                    has type T (F32, F16, Q8_0, Q4_0, ...)
//   weight_type: "Q8_0"              our writer's rule: norms (1-D) are F32; a matrix is
//                                    weight_type when its rows are a whole number of
//                                    blocks of that type, else Q8_0 for K-quants whose
//                                    rows are whole 32-blocks, else F16 (F32 stays F32)
//   no_space_in_tokens: true         no token contains a plain space (SentencePiece "▁")
//   byte_tokens_type: 6              every "<0xHH>" token has this token_type
//   tokenizer_bin: PATH              tokens and scores equal those of this llama2.c
//                                    tokenizer.bin, with " " -> "▁" (control/unknown
//                                    tokens' strings may differ)
//
// Exit status: 0 all checks passed, 1 parse error or failed checks (all listed on stderr),
// 2 usage error.
import { readFileSync, statSync, existsSync } from "node:fs";
import { parseArgs } from "node:util";

function usage(message) {
  process.stderr.write(`gguf_check: ${message}\n` +
    "usage: gguf_check.mjs FILE [--expect-json JSON] [--quiet]\n");
  process.exit(2);
}

let values;
let positionals;
try {
  ({ values, positionals } = parseArgs({
    options: { "expect-json": { type: "string" }, quiet: { type: "boolean" } },
    allowPositionals: true,
    strict: true,
  }));
} catch (e) {
  usage(e.message);
}
if (positionals.length !== 1) usage("give exactly one GGUF file");
const file = positionals[0];
if (!existsSync(file)) usage(`no such file: ${file}`);
let expect = {};
if (values["expect-json"] !== undefined) {
  try {
    expect = JSON.parse(values["expect-json"]);
  } catch (e) {
    usage(`--expect-json is not valid JSON: ${e.message}`);
  }
  if (typeof expect !== "object" || expect === null || Array.isArray(expect))
    usage("--expect-json must be a JSON object");
}
const knownExpectations = new Set(["version", "architecture", "tensor_count", "kv_count",
  "llama_layers", "output_weight", "tensor_names", "metadata", "array_lengths", "shapes",
  "dtypes", "weight_type", "no_space_in_tokens", "byte_tokens_type", "tokenizer_bin"]);
for (const k of Object.keys(expect))
  if (!knownExpectations.has(k)) usage(`unknown expectation "${k}"`);

let ggufLib;
try {
  ggufLib = await import("@huggingface/gguf");
} catch (e) {
  process.stderr.write(`gguf_check: cannot load @huggingface/gguf (${e.message}): run npm ci in tests/checkers\n`);
  process.exit(1);
}
const { gguf, GGMLQuantizationType, GGUFValueType } = ggufLib;

let parsed;
try {
  parsed = await gguf(file, { allowLocalFile: true, typedMetadata: true });
} catch (e) {
  process.stderr.write(`gguf_check: FAIL: @huggingface/gguf could not parse ${file}: ${e.stack ?? e}\n`);
  process.exit(1);
}
const { metadata, typedMetadata, tensorInfos } = parsed;
{
  // @huggingface/gguf reads past the end of a truncated file without complaint (it sees
  // zeros): a header that ends beyond the file is a parse failure.
  const headerEnd = Number(parsed.tensorInfoByteRange?.[1] ?? 0);
  const size = statSync(file).size;
  if (headerEnd > size) {
    process.stderr.write(`gguf_check: FAIL: ${file} is truncated: its header (metadata and tensor infos) ` +
      `runs to byte ${headerEnd} of a ${size}-byte file\n`);
    process.exit(1);
  }
}

const failures = [];
const fail = (msg) => failures.push(msg);
const num = (v) => (typeof v === "bigint" ? Number(v) : v);
const dtypeName = (t) => GGMLQuantizationType[t] ?? `type${t}`;
const valueTypeName = (t) => GGUFValueType[t] ?? `type${t}`;
const fileSize = statSync(file).size;
const headerKeys = new Set(["version", "tensor_count", "kv_count"]);
const kvKeys = Object.keys(metadata).filter((k) => !headerKeys.has(k));

// ---- summary --------------------------------------------------------------------------
function summarizeValue(key) {
  const tv = typedMetadata[key];
  if (tv.type === GGUFValueType.ARRAY)
    return `array[${tv.value.length}] of ${valueTypeName(tv.subType)}`;
  return num(tv.value);
}
const alignment = metadata["general.alignment"] !== undefined ? num(metadata["general.alignment"]) : 32;
const dataOffset = num(parsed.tensorDataOffset);
const summary = {
  file,
  file_size: fileSize,
  version: metadata.version,
  tensor_count: num(metadata.tensor_count),
  kv_count: num(metadata.kv_count),
  architecture: metadata["general.architecture"] ?? null,
  alignment,
  tensor_data_offset: dataOffset,
  metadata: Object.fromEntries(kvKeys.map((k) => [k, summarizeValue(k)])),
  tensors: tensorInfos.map((t) => ({
    name: t.name,
    shape: t.shape.map(num),
    dtype: dtypeName(t.dtype),
    offset: num(t.offset),
  })),
};

// ---- structural checks ----------------------------------------------------------------
if (summary.tensor_count !== tensorInfos.length)
  fail(`header tensor_count ${summary.tensor_count} but ${tensorInfos.length} tensor infos parsed`);
if (summary.kv_count !== kvKeys.length)
  fail(`header kv_count ${summary.kv_count} but ${kvKeys.length} key/value pairs parsed`);
if (metadata["general.alignment"] !== undefined) {
  const tv = typedMetadata["general.alignment"];
  if (tv.type !== GGUFValueType.UINT32) fail(`general.alignment has type ${valueTypeName(tv.type)}, not UINT32`);
  if (!(alignment > 0 && (alignment & (alignment - 1)) === 0)) fail(`general.alignment ${alignment} is not a power of two`);
}
if (dataOffset % alignment !== 0) fail(`tensor data section starts at ${dataOffset}, not a multiple of ${alignment}`);
if (dataOffset > fileSize) fail(`tensor data section starts at ${dataOffset}, past the end of the file (${fileSize})`);

// [elements per block, bytes per block]
const blockLayout = {
  F32: [1, 4], F16: [1, 2], BF16: [1, 2], Q4_0: [32, 18], Q4_1: [32, 20], Q5_0: [32, 22],
  Q5_1: [32, 24], Q8_0: [32, 34], Q4_K: [256, 144], Q5_K: [256, 176], Q6_K: [256, 210],
};
const names = new Set();
const ranges = [];
for (const t of summary.tensors) {
  if (names.has(t.name)) fail(`tensor ${t.name} appears twice`);
  names.add(t.name);
  if (t.shape.length < 1 || t.shape.length > 4) fail(`tensor ${t.name} has ${t.shape.length} dimensions`);
  if (t.shape.some((d) => !(d > 0))) fail(`tensor ${t.name} has a non-positive dimension: [${t.shape}]`);
  if (t.offset % alignment !== 0) fail(`tensor ${t.name} offset ${t.offset} is not a multiple of ${alignment}`);
  const layout = blockLayout[t.dtype];
  if (!layout) {
    fail(`tensor ${t.name} has type ${t.dtype}, which this checker does not size`);
    continue;
  }
  const [blockElems, blockBytes] = layout;
  if (t.shape[0] % blockElems !== 0) {
    fail(`tensor ${t.name} (${t.dtype}) rows of ${t.shape[0]} are not a whole number of ${blockElems}-element blocks`);
    continue;
  }
  const elements = t.shape.reduce((a, b) => a * b, 1);
  const bytes = (elements / blockElems) * blockBytes;
  t.bytes = bytes;
  const start = dataOffset + t.offset;
  if (start + bytes > fileSize)
    fail(`tensor ${t.name} bytes [${start}, ${start + bytes}) run past the end of the file (${fileSize})`);
  ranges.push([t.offset, t.offset + bytes, t.name]);
}
ranges.sort((a, b) => a[0] - b[0]);
for (let i = 1; i < ranges.length; i++) {
  if (ranges[i][0] < ranges[i - 1][1])
    fail(`tensors ${ranges[i - 1][2]} and ${ranges[i][2]} overlap in the data section`);
}

// ---- llama consistency (what llama.cpp's loader needs) --------------------------------
const tensorByName = new Map(summary.tensors.map((t) => [t.name, t]));
const sameShape = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
function requireKey(key, type, subType) {
  const tv = typedMetadata[key];
  if (tv === undefined) {
    fail(`missing key ${key}`);
    return undefined;
  }
  if (tv.type !== type) {
    fail(`key ${key} has type ${valueTypeName(tv.type)}, llama.cpp reads ${valueTypeName(type)}`);
    return undefined;
  }
  if (subType !== undefined && tv.subType !== subType) {
    fail(`key ${key} is an array of ${valueTypeName(tv.subType)}, expected ${valueTypeName(subType)}`);
    return undefined;
  }
  return tv.value;
}
if (summary.architecture === "llama") {
  const U32 = GGUFValueType.UINT32;
  const ctx = requireKey("llama.context_length", U32);
  const E = num(requireKey("llama.embedding_length", U32));
  const L = num(requireKey("llama.block_count", U32));
  const FF = num(requireKey("llama.feed_forward_length", U32));
  const H = num(requireKey("llama.attention.head_count", U32));
  let KV = H;
  if (typedMetadata["llama.attention.head_count_kv"] !== undefined)
    KV = num(requireKey("llama.attention.head_count_kv", U32));
  if (typedMetadata["llama.rope.dimension_count"] !== undefined) {
    const rot = num(requireKey("llama.rope.dimension_count", U32));
    if (H && E && rot !== E / H) fail(`llama.rope.dimension_count ${rot} is not head size ${E / H}`);
  }
  requireKey("llama.attention.layer_norm_rms_epsilon", GGUFValueType.FLOAT32);
  if (typedMetadata["llama.rope.freq_base"] !== undefined) requireKey("llama.rope.freq_base", GGUFValueType.FLOAT32);
  if (ctx !== undefined && !(ctx > 0)) fail(`llama.context_length is ${ctx}`);
  if (H && E % H !== 0) fail(`embedding_length ${E} is not a multiple of head_count ${H}`);
  if (KV && H % KV !== 0) fail(`head_count ${H} is not a multiple of head_count_kv ${KV}`);

  const model = requireKey("tokenizer.ggml.model", GGUFValueType.STRING);
  const tokens = requireKey("tokenizer.ggml.tokens", GGUFValueType.ARRAY, GGUFValueType.STRING);
  const nVocab = tokens ? tokens.length : undefined;
  if (model !== undefined && model !== "llama") fail(`tokenizer.ggml.model is "${model}", expected "llama" (SentencePiece)`);
  const scores = requireKey("tokenizer.ggml.scores", GGUFValueType.ARRAY, GGUFValueType.FLOAT32);
  const types = requireKey("tokenizer.ggml.token_type", GGUFValueType.ARRAY, GGUFValueType.INT32);
  if (scores && nVocab !== undefined && scores.length !== nVocab)
    fail(`tokenizer.ggml.scores has ${scores.length} entries for ${nVocab} tokens`);
  if (types && nVocab !== undefined && types.length !== nVocab)
    fail(`tokenizer.ggml.token_type has ${types.length} entries for ${nVocab} tokens`);
  if (types) {
    const bad = types.findIndex((t) => !(t >= 1 && t <= 6));
    if (bad >= 0) fail(`token ${bad} has token_type ${types[bad]} (valid: 1..6)`);
  }
  for (const k of ["tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id"]) {
    if (typedMetadata[k] === undefined) continue;
    const id = num(requireKey(k, U32));
    if (nVocab !== undefined && id !== undefined && !(id < nVocab)) fail(`${k} ${id} is outside the vocabulary (${nVocab})`);
  }
  for (const k of ["tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token"])
    if (typedMetadata[k] !== undefined) requireKey(k, GGUFValueType.BOOL);

  // Shapes implied by the hyperparameters (fastest-varying dimension first).
  if (E && L && FF && H && KV && nVocab) {
    const kvDim = (E / H) * KV;
    const want = new Map([["token_embd.weight", [E, nVocab]], ["output_norm.weight", [E]], ["output.weight", [E, nVocab]]]);
    for (let l = 0; l < L; l++) {
      want.set(`blk.${l}.attn_norm.weight`, [E]);
      want.set(`blk.${l}.attn_q.weight`, [E, E]);
      want.set(`blk.${l}.attn_k.weight`, [E, kvDim]);
      want.set(`blk.${l}.attn_v.weight`, [E, kvDim]);
      want.set(`blk.${l}.attn_output.weight`, [E, E]);
      want.set(`blk.${l}.ffn_norm.weight`, [E]);
      want.set(`blk.${l}.ffn_gate.weight`, [E, FF]);
      want.set(`blk.${l}.ffn_up.weight`, [E, FF]);
      want.set(`blk.${l}.ffn_down.weight`, [FF, E]);
    }
    for (const [name, shape] of want) {
      const t = tensorByName.get(name);
      if (t === undefined) {
        if (name !== "output.weight") fail(`llama tensor ${name} is missing`);
      } else if (!sameShape(t.shape, shape)) {
        fail(`tensor ${name} has shape [${t.shape}], the hyperparameters imply [${shape}]`);
      }
    }
    const blk = /^blk\.(\d+)\./;
    for (const name of names) {
      const m = blk.exec(name);
      if (m && Number(m[1]) >= L) fail(`tensor ${name} belongs to a block past block_count ${L}`);
    }
  }
}

// ---- expectations ---------------------------------------------------------------------
function sameValue(actual, expected, tv) {
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length &&
      actual.every((a, i) => sameValue(a, expected[i], { type: tv?.subType }));
  }
  if (typeof expected === "number") {
    if (tv?.type === GGUFValueType.FLOAT32) return Math.fround(expected) === Math.fround(num(actual));
    return num(actual) === expected;
  }
  return actual === expected;
}
function globToRegExp(glob) {
  const esc = glob.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${esc.join(".*")}$`);
}

if (expect.version !== undefined && summary.version !== expect.version)
  fail(`version ${summary.version}, expected ${expect.version}`);
if (expect.architecture !== undefined && summary.architecture !== expect.architecture)
  fail(`general.architecture ${JSON.stringify(summary.architecture)}, expected ${JSON.stringify(expect.architecture)}`);
if (expect.tensor_count !== undefined && summary.tensor_count !== expect.tensor_count)
  fail(`tensor_count ${summary.tensor_count}, expected ${expect.tensor_count}`);
if (expect.kv_count !== undefined && summary.kv_count !== expect.kv_count)
  fail(`kv_count ${summary.kv_count}, expected ${expect.kv_count}`);

function checkNameSet(expected, what) {
  const want = new Set(expected);
  const missing = [...want].filter((n) => !names.has(n));
  const extra = [...names].filter((n) => !want.has(n));
  if (missing.length) fail(`${what}: missing tensors ${missing.join(", ")}`);
  if (extra.length) fail(`${what}: unexpected tensors ${extra.join(", ")}`);
}
if (expect.llama_layers !== undefined) {
  const L = expect.llama_layers;
  const want = ["token_embd.weight", "output_norm.weight"];
  if (expect.output_weight === true) want.push("output.weight");
  for (let l = 0; l < L; l++) {
    for (const part of ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"])
      want.push(`blk.${l}.${part}.weight`);
  }
  checkNameSet(want, `llama model with ${L} layers${expect.output_weight === true ? "" : " and a shared classifier"}`);
  const bc = metadata["llama.block_count"];
  if (bc === undefined || num(bc) !== L) fail(`llama.block_count ${bc}, expected ${L}`);
}
if (expect.tensor_names !== undefined) checkNameSet(expect.tensor_names, "tensor names");

for (const [key, value] of Object.entries(expect.metadata ?? {})) {
  const tv = typedMetadata[key];
  if (tv === undefined) fail(`missing key ${key} (expected ${JSON.stringify(value)})`);
  else if (!sameValue(tv.value, value, tv))
    fail(`key ${key} is ${JSON.stringify(summarizeValue(key))}, expected ${JSON.stringify(value)}`);
}
for (const [key, n] of Object.entries(expect.array_lengths ?? {})) {
  const tv = typedMetadata[key];
  if (tv === undefined) fail(`missing key ${key} (expected an array of ${n})`);
  else if (tv.type !== GGUFValueType.ARRAY) fail(`key ${key} is not an array`);
  else if (tv.value.length !== n) fail(`key ${key} has ${tv.value.length} elements, expected ${n}`);
}
for (const [name, shape] of Object.entries(expect.shapes ?? {})) {
  const t = tensorByName.get(name);
  if (t === undefined) fail(`missing tensor ${name} (expected shape [${shape}])`);
  else if (!sameShape(t.shape, shape)) fail(`tensor ${name} has shape [${t.shape}], expected [${shape}]`);
}
for (const [glob, types] of Object.entries(expect.dtypes ?? {})) {
  const allowed = Array.isArray(types) ? types : [types];
  const re = globToRegExp(glob);
  const matching = summary.tensors.filter((t) => re.test(t.name));
  if (matching.length === 0) fail(`no tensor matches "${glob}"`);
  for (const t of matching)
    if (!allowed.includes(t.dtype)) fail(`tensor ${t.name} has type ${t.dtype}, expected ${allowed.join(" or ")}`);
}
if (expect.weight_type !== undefined) {
  const wt = expect.weight_type;
  if (!blockLayout[wt]) usage(`weight_type ${wt} is not one of ${Object.keys(blockLayout).join(", ")}`);
  for (const t of summary.tensors) {
    let want;
    if (t.shape.length === 1) want = "F32";
    else if (t.shape[0] % blockLayout[wt][0] === 0) want = wt;
    else if (blockLayout[wt][0] === 256 && t.shape[0] % 32 === 0) want = "Q8_0";
    else want = wt === "F32" ? "F32" : "F16";
    if (t.dtype !== want)
      fail(`tensor ${t.name} [${t.shape}] has type ${t.dtype}; for --type ${wt} it should be ${want}`);
  }
}

const tokens = metadata["tokenizer.ggml.tokens"];
if (expect.no_space_in_tokens === true) {
  if (!Array.isArray(tokens)) fail("no_space_in_tokens: tokenizer.ggml.tokens is missing");
  else {
    const bad = tokens.map((t, i) => [t, i]).filter(([t]) => t.includes(" "));
    if (bad.length)
      fail(`${bad.length} tokens contain a plain space instead of "\u2581", e.g. ${bad.slice(0, 5).map(([t, i]) => `${i}:${JSON.stringify(t)}`).join(", ")}`);
  }
}
if (expect.byte_tokens_type !== undefined) {
  const types = metadata["tokenizer.ggml.token_type"];
  if (!Array.isArray(tokens) || !Array.isArray(types)) fail("byte_tokens_type: tokens or token_type missing");
  else {
    const isByte = /^<0x[0-9A-F]{2}>$/;
    const byteIds = tokens.map((t, i) => (isByte.test(t) ? i : -1)).filter((i) => i >= 0);
    if (byteIds.length !== 256) fail(`${byteIds.length} <0xHH> byte tokens, expected 256`);
    const bad = byteIds.filter((i) => types[i] !== expect.byte_tokens_type);
    if (bad.length)
      fail(`${bad.length} byte tokens do not have token_type ${expect.byte_tokens_type}, e.g. ${bad.slice(0, 5).map((i) => `${i}:${tokens[i]}=${types[i]}`).join(", ")}`);
  }
}
if (expect.tokenizer_bin !== undefined) {
  // llama2.c tokenizer.bin: uint32 max_token_length; per token float32 score, int32 len, bytes.
  const buf = readFileSync(expect.tokenizer_bin);
  const scores = metadata["tokenizer.ggml.scores"];
  const types = metadata["tokenizer.ggml.token_type"] ?? [];
  if (!Array.isArray(tokens) || !Array.isArray(scores)) fail("tokenizer_bin: tokens or scores missing");
  else {
    let pos = 4;
    const pieces = [];
    const utf8 = new TextDecoder();
    while (pos < buf.length && pieces.length < tokens.length + 1) {
      const score = buf.readFloatLE(pos);
      const len = buf.readInt32LE(pos + 4);
      // Decoded as @huggingface/gguf decodes GGUF strings (TextDecoder, which drops a
      // leading U+FEFF: Llama 2's token 30143 "\uFEFF" reads back as "").
      pieces.push([score, utf8.decode(buf.subarray(pos + 8, pos + 8 + len))]);
      pos += 8 + len;
    }
    if (pieces.length !== tokens.length) fail(`tokenizer_bin has ${pieces.length} tokens, the GGUF ${tokens.length}`);
    const mismatches = [];
    for (let i = 0; i < Math.min(pieces.length, tokens.length); i++) {
      const [score, piece] = pieces[i];
      const control = types[i] === 2 || types[i] === 3;
      const want = piece.replaceAll(" ", "\u2581");
      if (!control && tokens[i] !== want) mismatches.push(`${i}: ${JSON.stringify(tokens[i])} != ${JSON.stringify(want)}`);
      else if (Math.fround(scores[i]) !== score) mismatches.push(`${i}: score ${scores[i]} != ${score}`);
    }
    if (mismatches.length)
      fail(`${mismatches.length} tokens differ from ${expect.tokenizer_bin}, e.g. ${mismatches.slice(0, 5).join("; ")}`);
  }
}

// ---- report ---------------------------------------------------------------------------
const replacer = (_k, v) => (typeof v === "bigint" ? Number(v) : v);
if (!values.quiet || failures.length) {
  // One line per key and per tensor.
  const { metadata: md, tensors, ...head } = summary;
  const lines = Object.entries(head).map(([k, v]) => ` ${JSON.stringify(k)}: ${JSON.stringify(v, replacer)}`);
  lines.push(` "metadata": {\n${Object.entries(md).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v, replacer)}`).join(",\n")}\n }`);
  lines.push(` "tensors": [\n${tensors.map((t) => `  ${JSON.stringify(t, replacer)}`).join(",\n")}\n ]`);
  process.stdout.write(`{\n${lines.join(",\n")}\n}\n`);
}
if (failures.length) {
  process.stderr.write(`gguf_check: FAIL: ${file}: ${failures.length} problem(s):\n`);
  for (const f of failures.slice(0, 60)) process.stderr.write(`  - ${f}\n`);
  if (failures.length > 60) process.stderr.write(`  ... and ${failures.length - 60} more\n`);
  process.exit(1);
}
process.stderr.write(`gguf_check: OK: ${file}: GGUF v${summary.version}, ${summary.tensor_count} tensors, ` +
  `${summary.kv_count} keys, architecture ${summary.architecture}` +
  `${Object.keys(expect).length ? `, expectations met (${Object.keys(expect).join(", ")})` : ""}\n`);
