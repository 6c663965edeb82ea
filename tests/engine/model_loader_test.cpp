#include "engine/model_loader.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cstring>

#include <functional>
#include <future>

#include "engine/errors.h"
#include "engine/llama2c.h"
#include "engine/mapped_file.h"
#include "engine/model.h"
#include "engine/quant.h"
#include "engine/test_files.h"
#include "engine/tokenizer.h"

namespace llmops::engine {
namespace {

using test_files::Llama2cSpec;
using test_files::TempDir;
using test_files::TinyLlamaGguf;

const std::string kAidreams = LLMOPS_SHARED_DIR "/models/aidreams260K.bin";

std::string load_error(const std::vector<uint8_t>& bytes, const std::string& name) {
  try {
    model_from_bytes(bytes.data(), bytes.size(), name);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_LOAD_ERROR(bytes, name, substring)               \
  do {                                                          \
    const std::string msg_ = load_error(bytes, name);           \
    EXPECT_NE(msg_.find(substring), std::string::npos) << msg_; \
    EXPECT_NE(msg_.find(name), std::string::npos) << msg_;      \
  } while (0)

#define EXPECT_GGUF_ERROR(tiny, substring) EXPECT_LOAD_ERROR((tiny).bytes(), "t.gguf", substring)
#define EXPECT_L2C_ERROR(spec_bytes, substring) \
  EXPECT_LOAD_ERROR(spec_bytes, "m.bin", std::string("llama2.c checkpoint m.bin: ") + (substring))

// --- llama2.c ----------------------------------------------------------------------

TEST(Llama2cLoad, AidreamsCheckpoint) {
  const Model m = load_model(kAidreams);
  ASSERT_NE(m.file, nullptr);
  EXPECT_EQ(m.format, ModelFormat::Llama2c);
  EXPECT_EQ(m.path, kAidreams);
  const ModelConfig& c = m.config;
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.hidden_dim, 172);
  EXPECT_EQ(c.n_layers, 4);
  EXPECT_EQ(c.n_heads, 4);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.context_length, 128);
  EXPECT_EQ(c.rope_dim, 16);
  EXPECT_FLOAT_EQ(c.rms_eps, 1e-5f);
  EXPECT_FLOAT_EQ(c.rope_theta, 10000.0f);
  EXPECT_FALSE(m.vocab.has_value());

  const ModelWeights& w = m.weights;
  const uint8_t* base = m.file->data();
  EXPECT_TRUE(w.shared_classifier);
  EXPECT_EQ(w.output.data, w.token_embd.data);
  EXPECT_EQ(w.token_embd.data, base + 28);
  EXPECT_EQ(w.token_embd.rows, 512);
  EXPECT_EQ(w.token_embd.cols, 64);
  ASSERT_EQ(w.layers.size(), 4u);
  // Offsets of the weights in llama2.c's order, in floats after the header.
  const size_t d = 64, h = 172, L = 4, v = 512;
  const size_t rms_att = v * d, wq = rms_att + L * d, wk = wq + L * d * d, wv = wk + L * d * d,
               wo = wv + L * d * d, rms_ffn = wo + L * d * d, w1 = rms_ffn + L * d,
               w2 = w1 + L * h * d, w3 = w2 + L * d * h, rms_final = w3 + L * h * d;
  auto at = [&](size_t floats) { return static_cast<const void*>(base + 28 + 4 * floats); };
  EXPECT_EQ(w.layers[2].attn_norm.data, at(rms_att + 2 * d));
  EXPECT_EQ(w.layers[1].wq.data, at(wq + d * d));
  EXPECT_EQ(w.layers[3].wk.data, at(wk + 3 * d * d));
  EXPECT_EQ(w.layers[0].wv.data, at(wv));
  EXPECT_EQ(w.layers[2].wo.data, at(wo + 2 * d * d));
  EXPECT_EQ(w.layers[1].ffn_norm.data, at(rms_ffn + d));
  EXPECT_EQ(w.layers[1].w_gate.data, at(w1 + h * d));
  EXPECT_EQ(w.layers[1].w_down.data, at(w2 + d * h));
  EXPECT_EQ(w.layers[1].w_up.data, at(w3 + h * d));
  EXPECT_EQ(w.output_norm.data, at(rms_final));
  EXPECT_EQ(w.layers[0].w_down.rows, 64);
  EXPECT_EQ(w.layers[0].w_down.cols, 172);
  EXPECT_EQ(w.layers[0].w_gate.rows, 172);
  EXPECT_EQ(w.layers[0].wk.rows, 64);
  EXPECT_EQ(w.output_norm.rows, 1);
  EXPECT_EQ(w.output_norm.cols, 64);
  // The two RoPE tables fill the rest of the file.
  EXPECT_EQ(m.file->size(), 28 + 4 * (rms_final + d + 128 * 16));
  for (const LayerWeights& lw : w.layers) EXPECT_EQ(lw.wq.type, TensorType::F32);
}

TEST(Llama2cLoad, SeparateClassifierAndGqa) {
  Llama2cSpec spec;
  spec.shared = false;
  spec.n_heads = 4;
  spec.n_kv_heads = 2;
  const auto bytes = spec.bytes();
  const Model m = model_from_bytes(bytes.data(), bytes.size(), "m.bin");
  EXPECT_FALSE(m.weights.shared_classifier);
  EXPECT_EQ(m.config.vocab_size, 8);
  EXPECT_EQ(m.config.kv_dim(), 4);
  EXPECT_EQ(m.weights.layers[0].wk.rows, 4);
  EXPECT_EQ(m.weights.output.data, bytes.data() + bytes.size() - 8 * 8 * 4);
  EXPECT_EQ(m.weights.output.f32()[0], test_files::test_value(spec.float_count() - 64));
  EXPECT_EQ(m.weights.token_embd.f32()[5], test_files::test_value(5));
}

TEST(Llama2cBadFiles, HeaderInconsistent) {
  Llama2cSpec spec;
  spec.dim = 10;
  spec.n_heads = 4;
  EXPECT_L2C_ERROR(spec.header_bytes(), "header dim 10 is not a multiple of n_heads 4");
  spec = {};
  spec.n_heads = 4;
  spec.n_kv_heads = 3;
  EXPECT_L2C_ERROR(spec.header_bytes(), "header n_heads 4 is not a multiple of n_kv_heads 3");
  spec = {};
  spec.n_heads = 8;
  EXPECT_L2C_ERROR(spec.header_bytes(), "head size 1 (dim 8 / n_heads 8) is odd");
  spec = {};
  spec.n_layers = 0;
  EXPECT_L2C_ERROR(spec.header_bytes(), "header field n_layers = 0 is out of range (1..1024)");
  spec = {};
  spec.hidden_dim = -5;
  EXPECT_L2C_ERROR(spec.header_bytes(), "header field hidden_dim = -5 is out of range");
  spec = {};
  spec.n_kv_heads = 4;
  EXPECT_L2C_ERROR(spec.header_bytes(), "header field n_kv_heads = 4 is out of range (1..2)");
  spec = {};
  spec.seq_len = 1 << 30;
  EXPECT_L2C_ERROR(spec.header_bytes(), "header field seq_len = 1073741824 is out of range");
  test_files::ByteBuilder huge;
  for (int32_t v : {1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30, -(1 << 30), 1 << 30}) huge.put(v);
  EXPECT_L2C_ERROR(huge.bytes, "header field dim = 1073741824 is out of range (1..65536)");
  test_files::ByteBuilder min_vocab;
  for (int32_t v : {8, 16, 1, 2, 1, INT32_MIN, 4}) min_vocab.put(v);
  EXPECT_L2C_ERROR(min_vocab.bytes,
                   "header field vocab_size (absolute value) = 2147483648 is out of range");
  test_files::ByteBuilder ak42;
  ak42.u32(0x616b3432).u32(2);
  ak42.bytes.resize(256);
  EXPECT_L2C_ERROR(ak42.bytes, "int8 (\"ak42\", runq.c) checkpoints are not supported");
}

TEST(Llama2cBadFiles, FileSizeMismatch) {
  const Llama2cSpec spec;
  auto bytes = spec.bytes();
  const size_t good = bytes.size();
  bytes.resize(good + 4);
  EXPECT_L2C_ERROR(bytes, "file is " + std::to_string(good + 4) +
                              " bytes but its header (dim 8, hidden_dim 16, n_layers 1, n_heads "
                              "2, n_kv_heads 1, vocab_size 8, seq_len 4) implies " +
                              std::to_string(good) + " bytes");
}

TEST(Llama2cBadFiles, TruncatedAtSeveralCutPoints) {
  const auto good = Llama2cSpec{}.bytes();
  for (size_t cut : {size_t{0}, size_t{3}, size_t{27}}) {
    EXPECT_LOAD_ERROR(
        std::vector<uint8_t>(good.begin(), good.begin() + static_cast<ptrdiff_t>(cut)), "m.bin",
        "is shorter than the 28-byte header");
  }
  for (size_t cut : {size_t{28}, size_t{29}, good.size() / 2, good.size() - 4, good.size() - 1}) {
    EXPECT_LOAD_ERROR(
        std::vector<uint8_t>(good.begin(), good.begin() + static_cast<ptrdiff_t>(cut)), "m.bin",
        "implies " + std::to_string(good.size()) + " bytes");
  }
  // Every cut point fails cleanly.
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(
        load_error(std::vector<uint8_t>(good.begin(), good.begin() + static_cast<ptrdiff_t>(cut)),
                   "m.bin")
            .empty());
  }
}

TEST(ModelLoad, MissingAndEmptyFiles) {
  TempDir dir;
  EXPECT_THROW(load_model(dir.file("nope.gguf")), ModelError);
  test_files::write_bytes(dir.file("empty.bin"), {});
  try {
    load_model(dir.file("empty.bin"));
    ADD_FAILURE() << "no error";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("empty.bin: file of 0 bytes is shorter than the 28-byte"),
              std::string::npos)
        << e.what();
  }
}

// --- GGUF --------------------------------------------------------------------------

TEST(GgufLoad, TinyModelViewsAndVocab) {
  TempDir dir;
  TinyLlamaGguf tiny;
  tiny.keys["llama.rope.freq_base"] = GgufValue::scalar(500000.0f);
  tiny.keys["tokenizer.chat_template"] = GgufValue::scalar(std::string("{{ messages }}"));
  test_files::write_bytes(dir.file("t.gguf"), tiny.bytes());
  const Model m = load_model(dir.file("t.gguf"));
  EXPECT_EQ(m.format, ModelFormat::Gguf);
  const ModelConfig& c = m.config;
  EXPECT_EQ(c.dim, 32);
  EXPECT_EQ(c.hidden_dim, 64);
  EXPECT_EQ(c.n_layers, 2);
  EXPECT_EQ(c.n_heads, 4);
  EXPECT_EQ(c.n_kv_heads, 2);
  EXPECT_EQ(c.vocab_size, 8);
  EXPECT_EQ(c.context_length, 16);
  EXPECT_EQ(c.rope_dim, 8);
  EXPECT_FLOAT_EQ(c.rope_theta, 500000.0f);
  EXPECT_FLOAT_EQ(c.rms_eps, 1e-5f);

  const ModelWeights& w = m.weights;
  EXPECT_TRUE(w.shared_classifier);
  EXPECT_EQ(w.output.data, w.token_embd.data);
  EXPECT_EQ(w.layers[1].wk.rows, 16);
  EXPECT_EQ(w.layers[1].wk.cols, 32);
  EXPECT_EQ(w.layers[1].w_down.rows, 32);
  EXPECT_EQ(w.layers[1].w_down.cols, 64);
  EXPECT_EQ(w.layers[0].attn_norm.rows, 1);
  // Views point into the mapping, at the tensors' data.
  const auto* base = m.file->data();
  const GgufFile g = GgufFile::parse(base, m.file->size(), "t.gguf");
  EXPECT_EQ(w.layers[1].wv.data, base + g.find_tensor("blk.1.attn_v.weight")->file_offset);
  EXPECT_EQ(w.output_norm.data, base + g.find_tensor("output_norm.weight")->file_offset);
  EXPECT_EQ(w.token_embd.f32()[0], test_files::test_value(0));
  EXPECT_TRUE(m.owned.empty());

  ASSERT_TRUE(m.vocab.has_value());
  const Vocab& v = *m.vocab;
  ASSERT_EQ(v.size(), 8u);
  EXPECT_EQ(v.pieces[0], "<unk>");
  EXPECT_EQ(v.pieces[3], "\xE2\x96\x81t3");  // as GGUF spells it
  EXPECT_EQ(v.scores[4], -4.0f);
  EXPECT_EQ(v.types[1], TokenType::Control);
  EXPECT_EQ(v.types[5], TokenType::Normal);
  EXPECT_EQ(v.bos_id, 1);
  EXPECT_EQ(v.eos_id, 2);
  EXPECT_EQ(v.unk_id, 0);
  EXPECT_EQ(m.chat_template, "{{ messages }}");
}

TEST(GgufLoad, QuantizedSeparateClassifierAndF16Norms) {
  TinyLlamaGguf tiny;
  tiny.type = TensorType::Q8_0;
  tiny.norm_type = TensorType::F16;
  tiny.shared_classifier = false;
  tiny.types["blk.0.ffn_down.weight"] = TensorType::Q4_0;
  tiny.skip_keys = {"llama.attention.head_count_kv",
                    "llama.rope.dimension_count",
                    "llama.attention.layer_norm_rms_epsilon",
                    "llama.rope.freq_base",
                    "tokenizer.ggml.scores",
                    "tokenizer.ggml.token_type",
                    "tokenizer.ggml.bos_token_id",
                    "tokenizer.ggml.eos_token_id"};
  tiny.n_kv_heads = tiny.n_heads;  // the default when the key is absent
  const auto bytes = tiny.bytes();
  const Model m = model_from_bytes(bytes.data(), bytes.size(), "t.gguf");
  EXPECT_EQ(m.config.n_kv_heads, 4);
  EXPECT_EQ(m.config.rope_dim, 8);
  EXPECT_FALSE(m.weights.shared_classifier);
  EXPECT_NE(m.weights.output.data, m.weights.token_embd.data);
  EXPECT_EQ(m.weights.output.type, TensorType::Q8_0);
  EXPECT_EQ(m.weights.layers[0].wq.type, TensorType::Q8_0);
  EXPECT_EQ(m.weights.layers[0].w_down.type, TensorType::Q4_0);
  // 5 norms converted from F16 into owned F32 buffers.
  EXPECT_EQ(m.owned.size(), 5u);
  const TensorView& n = m.weights.layers[1].ffn_norm;
  EXPECT_EQ(n.type, TensorType::F32);
  EXPECT_EQ(n.data, m.owned[3].data());
  const GgufFile g = GgufFile::parse(bytes.data(), bytes.size(), "t.gguf");
  const uint8_t* src = bytes.data() + g.find_tensor("blk.1.ffn_norm.weight")->file_offset;
  for (int i = 0; i < 32; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    EXPECT_EQ(n.f32()[i], fp16_to_fp32(h));
  }
  ASSERT_TRUE(m.vocab.has_value());
  EXPECT_EQ(m.vocab->scores, std::vector<float>(8, 0.0f));
  EXPECT_EQ(m.vocab->types, std::vector<TokenType>(8, TokenType::Normal));
  EXPECT_EQ(m.chat_template, "");
}

TEST(GgufLoad, NoTokenizerMetadataMeansNoVocab) {
  TinyLlamaGguf tiny;
  tiny.skip_keys = {"tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.scores",
                    "tokenizer.ggml.token_type"};
  const auto bytes = tiny.bytes();
  EXPECT_FALSE(model_from_bytes(bytes.data(), bytes.size(), "t.gguf").vocab.has_value());
}

TEST(GgufBadModels, MissingTensor) {
  TinyLlamaGguf tiny;
  tiny.skip_tensors = {"blk.1.ffn_up.weight"};
  EXPECT_GGUF_ERROR(tiny, "GGUF t.gguf: missing tensor blk.1.ffn_up.weight");
  tiny.skip_tensors = {"token_embd.weight"};
  EXPECT_GGUF_ERROR(tiny, "missing tensor token_embd.weight");
  tiny.skip_tensors = {"output_norm.weight"};
  EXPECT_GGUF_ERROR(tiny, "missing tensor output_norm.weight");
}

TEST(GgufBadModels, WrongShape) {
  TinyLlamaGguf tiny;
  tiny.dims["blk.0.attn_k.weight"] = {32, 32};
  EXPECT_GGUF_ERROR(tiny, "tensor blk.0.attn_k.weight has shape [32, 32], expected [32, 16]");
  tiny = {};
  tiny.dims["blk.1.ffn_down.weight"] = {32, 64};  // transposed
  EXPECT_GGUF_ERROR(tiny, "tensor blk.1.ffn_down.weight has shape [32, 64], expected [64, 32]");
  tiny = {};
  tiny.dims["blk.0.attn_norm.weight"] = {32, 1};
  EXPECT_GGUF_ERROR(tiny, "tensor blk.0.attn_norm.weight has shape [32, 1], expected [32]");
  tiny = {};
  tiny.dims["token_embd.weight"] = {64, 8};
  EXPECT_GGUF_ERROR(tiny, "tensor token_embd.weight has shape [64, 8], expected [32, n_vocab]");
  tiny = {};
  tiny.dims["blk.0.attn_q.weight"] = {32, 32, 1};
  EXPECT_GGUF_ERROR(tiny, "tensor blk.0.attn_q.weight has shape [32, 32, 1], expected [32, 32]");
}

TEST(GgufBadModels, UnsupportedTensorType) {
  TinyLlamaGguf tiny;
  tiny.types["output_norm.weight"] = TensorType::Q8_0;
  EXPECT_GGUF_ERROR(
      tiny,
      "tensor output_norm.weight has type q8_0; norms, biases and rope_freqs must be f32 or f16");
  // Type ids we do not know are rejected when the file is parsed.
  auto bytes = TinyLlamaGguf{}.bytes();
  const GgufFile g = GgufFile::parse(bytes.data(), bytes.size(), "t.gguf");
  (void)g;
  const std::string name = "blk.0.attn_q.weight";
  auto it = std::search(bytes.begin(), bytes.end(), name.begin(), name.end());
  ASSERT_NE(it, bytes.end());
  const size_t type_at = static_cast<size_t>(it - bytes.begin()) + name.size() + 4 + 2 * 8;
  const uint32_t q3_k = 11;
  std::memcpy(bytes.data() + type_at, &q3_k, 4);
  EXPECT_LOAD_ERROR(bytes, "t.gguf",
                    "tensor blk.0.attn_q.weight has unsupported type id 11 (q3_K)");
}

TEST(GgufBadModels, BadHyperParameters) {
  TinyLlamaGguf tiny;
  tiny.keys["general.architecture"] = GgufValue::scalar(std::string("mamba"));
  EXPECT_GGUF_ERROR(tiny,
                    "general.architecture is \"mamba\", which is not supported (supported: llama, "
                    "qwen2, qwen3, gemma3)");
  tiny = {};
  tiny.skip_keys = {"general.architecture"};
  EXPECT_GGUF_ERROR(tiny, "missing key general.architecture");
  tiny = {};
  tiny.skip_keys = {"llama.embedding_length"};
  EXPECT_GGUF_ERROR(tiny, "missing key llama.embedding_length");
  tiny = {};
  tiny.keys["llama.block_count"] = GgufValue::scalar(std::string("2"));
  EXPECT_GGUF_ERROR(tiny, "key llama.block_count has type string, expected uint32");
  tiny = {};
  tiny.keys["llama.block_count"] = GgufValue::scalar(uint64_t{2});  // any integer that fits
  EXPECT_EQ(load_error(tiny.bytes(), "t.gguf"), "");
  tiny.keys["llama.block_count"] = GgufValue::scalar(uint32_t{100000});
  EXPECT_GGUF_ERROR(tiny, "key llama.block_count = 100000 is out of range (1..1024)");
  tiny = {};
  tiny.keys["llama.embedding_length"] = GgufValue::scalar(uint32_t{0});
  EXPECT_GGUF_ERROR(tiny, "key llama.embedding_length = 0 is out of range");
  tiny = {};
  tiny.keys["llama.attention.head_count"] = GgufValue::scalar(uint32_t{3});
  EXPECT_GGUF_ERROR(tiny,
                    "llama.embedding_length 32 is not a multiple of llama.attention.head_count 3");
  tiny = {};
  tiny.keys["llama.attention.head_count_kv"] = GgufValue::scalar(uint32_t{3});
  EXPECT_GGUF_ERROR(
      tiny, "llama.attention.head_count 4 is not a multiple of llama.attention.head_count_kv 3");
  tiny = {};
  tiny.keys["llama.rope.dimension_count"] = GgufValue::scalar(uint32_t{4});
  EXPECT_GGUF_ERROR(tiny, "llama.rope.dimension_count 4 differs from the head size 8");
  tiny = {};
  tiny.keys["llama.attention.layer_norm_rms_epsilon"] = GgufValue::scalar(-1.0f);
  EXPECT_GGUF_ERROR(tiny, "key llama.attention.layer_norm_rms_epsilon = -1.000000 must be");
  tiny = {};
  tiny.keys["llama.context_length"] = GgufValue::scalar(uint32_t{1} << 31);
  EXPECT_GGUF_ERROR(tiny, "key llama.context_length = 2147483648 is out of range");
}

TEST(GgufBadModels, BadVocabulary) {
  TinyLlamaGguf tiny;
  tiny.keys["tokenizer.ggml.model"] = GgufValue::scalar(std::string("bert"));
  EXPECT_GGUF_ERROR(tiny,
                    "tokenizer.ggml.model is \"bert\", which is not supported (supported: llama "
                    "(SentencePiece), gpt2 (byte-level BPE))");
  tiny = {};
  tiny.keys["tokenizer.ggml.model"] = GgufValue::scalar(std::string("gpt2"));
  EXPECT_GGUF_ERROR(tiny, "missing key tokenizer.ggml.merges (required by gpt2 vocabularies)");
  tiny.keys["tokenizer.ggml.merges"] = GgufValue::array(std::vector<std::string>{});
  tiny.keys["tokenizer.ggml.pre"] = GgufValue::scalar(std::string("deepseek-coder"));
  EXPECT_GGUF_ERROR(tiny, "tokenizer.ggml.pre is \"deepseek-coder\", which is not supported");
  tiny = {};
  tiny.skip_keys = {"tokenizer.ggml.model"};
  EXPECT_GGUF_ERROR(tiny, "missing key tokenizer.ggml.model");
  tiny = {};
  tiny.keys["tokenizer.ggml.tokens"] =
      GgufValue::array(std::vector<std::string>{"<unk>", "<s>", "</s>", "a"});
  tiny.keys["tokenizer.ggml.scores"] = GgufValue::array(std::vector<float>(4, 0.0f));
  tiny.keys["tokenizer.ggml.token_type"] = GgufValue::array(std::vector<int32_t>(4, 1));
  EXPECT_GGUF_ERROR(tiny, "tokenizer.ggml.tokens has 4 tokens but token_embd.weight has 8 rows");
  tiny = {};
  tiny.keys["tokenizer.ggml.scores"] = GgufValue::array(std::vector<float>(7, 0.0f));
  EXPECT_GGUF_ERROR(tiny, "tokenizer.ggml.scores has 7 entries but tokenizer.ggml.tokens has 8");
  tiny = {};
  tiny.keys["tokenizer.ggml.token_type"] = GgufValue::array(std::vector<int32_t>(9, 1));
  EXPECT_GGUF_ERROR(tiny,
                    "tokenizer.ggml.token_type has 9 entries but tokenizer.ggml.tokens has 8");
  tiny = {};
  tiny.keys["tokenizer.ggml.token_type"] =
      GgufValue::array(std::vector<int32_t>{1, 1, 1, 1, 1, 9, 1, 1});
  EXPECT_GGUF_ERROR(tiny, "tokenizer.ggml.token_type[5] is 9 (expected 1..6)");
  tiny = {};
  tiny.keys["tokenizer.ggml.token_type"] = GgufValue::array(std::vector<float>(8, 1.0f));
  EXPECT_GGUF_ERROR(tiny,
                    "key tokenizer.ggml.token_type has type array of float32, expected array of "
                    "int32");
  tiny = {};
  tiny.keys["tokenizer.ggml.eos_token_id"] = GgufValue::scalar(uint32_t{8});
  EXPECT_GGUF_ERROR(tiny, "tokenizer.ggml.eos_token_id 8 is out of range for 8 tokens");
}

TEST(GgufBadModels, GarbageAfterMagic) {
  std::vector<uint8_t> bytes = {'G', 'G', 'U', 'F', 3, 0, 0};
  EXPECT_LOAD_ERROR(bytes, "t.gguf", "GGUF t.gguf: truncated at offset 4");
}

// A FIFO (or a device) as the model or tokenizer path must be refused at once: opening a
// FIFO for reading blocks until a writer comes, so a check after open() hangs forever.
// The loads run on a thread; if one hangs, the test opens the writer end to free it and
// fails.
TEST(ModelFiles, NonRegularPathsAreRejectedBeforeOpening) {
  TempDir dir;
  const std::string fifo = dir.file("model.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  struct Load {
    const char* what;
    std::function<void()> run;
  };
  const std::vector<Load> loads = {
      {"load_model", [&] { load_model(fifo); }},
      {"load_tokenizer_bin", [&] { load_tokenizer_bin(fifo); }},
      {"MappedFile::open", [&] { MappedFile::open(fifo); }},
  };
  for (const auto& load : loads) {
    auto result = std::async(std::launch::async, [&] {
      try {
        load.run();
      } catch (const ModelError& e) {
        return std::string(e.what());
      }
      return std::string("accepted");
    });
    if (result.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
      const int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (writer >= 0) ::close(writer);
      ADD_FAILURE() << load.what << " blocked on the FIFO";
    }
    const std::string message = result.get();
    EXPECT_NE(message.find("not a regular file"), std::string::npos)
        << load.what << ": " << message;
    EXPECT_NE(message.find(fifo), std::string::npos) << load.what << ": " << message;
  }
}

}  // namespace
}  // namespace llmops::engine
