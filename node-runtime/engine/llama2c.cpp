#include "llama2c.h"

#include <cstring>

#include "errors.h"

namespace llmops::engine {

namespace {

constexpr uint32_t kInt8Magic = 0x616b3432;  // "ak42": runq.c's int8 export

// Limits that keep every size computation far from overflow and reject garbage early.
constexpr int64_t kMaxDim = int64_t{1} << 16;
constexpr int64_t kMaxHidden = int64_t{1} << 20;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxVocab = int64_t{1} << 22;
constexpr int64_t kMaxSeqLen = int64_t{1} << 22;

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw ModelError("llama2.c checkpoint " + name + ": " + what);
}

void check_range(const std::string& name, const char* field, int64_t v, int64_t max) {
  if (v <= 0 || v > max) {
    fail(name, std::string("header field ") + field + " = " + std::to_string(v) +
                   " is out of range (1.." + std::to_string(max) + ")");
  }
}

}  // namespace

Llama2cLayout parse_llama2c_layout(const uint8_t* data, size_t size, const std::string& name) {
  if (size < kLlama2cHeaderBytes) {
    fail(name, "file of " + std::to_string(size) + " bytes is shorter than the " +
                   std::to_string(kLlama2cHeaderBytes) + "-byte header");
  }
  int32_t h[7];
  std::memcpy(h, data, sizeof h);
  if (static_cast<uint32_t>(h[0]) == kInt8Magic) {
    fail(name, "int8 (\"ak42\", runq.c) checkpoints are not supported; export fp32");
  }
  const int64_t dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kv_heads = h[4];
  const int64_t vocab_signed = h[5], seq_len = h[6];
  const int64_t vocab = vocab_signed < 0 ? -vocab_signed : vocab_signed;
  check_range(name, "dim", dim, kMaxDim);
  check_range(name, "hidden_dim", hidden, kMaxHidden);
  check_range(name, "n_layers", layers, kMaxLayers);
  check_range(name, "n_heads", heads, dim);
  check_range(name, "n_kv_heads", kv_heads, heads);
  check_range(name, "vocab_size (absolute value)", vocab, kMaxVocab);
  check_range(name, "seq_len", seq_len, kMaxSeqLen);
  if (dim % heads != 0) {
    fail(name, "header dim " + std::to_string(dim) + " is not a multiple of n_heads " +
                   std::to_string(heads));
  }
  if (heads % kv_heads != 0) {
    fail(name, "header n_heads " + std::to_string(heads) + " is not a multiple of n_kv_heads " +
                   std::to_string(kv_heads));
  }
  const int64_t head_size = dim / heads;
  if (head_size % 2 != 0) {
    fail(name, "head size " + std::to_string(head_size) + " (dim " + std::to_string(dim) +
                   " / n_heads " + std::to_string(heads) + ") is odd; RoPE needs pairs");
  }

  Llama2cLayout out;
  ModelConfig& c = out.config;
  c.dim = static_cast<int>(dim);
  c.hidden_dim = static_cast<int>(hidden);
  c.n_layers = static_cast<int>(layers);
  c.n_heads = static_cast<int>(heads);
  c.n_kv_heads = static_cast<int>(kv_heads);
  c.vocab_size = static_cast<int>(vocab);
  c.context_length = static_cast<int>(seq_len);
  c.rms_eps = 1e-5f;
  c.rope_theta = 10000.0f;
  c.rope_dim = static_cast<int>(head_size);
  out.shared_classifier = vocab_signed > 0;

  // Within the limits above every product fits easily in 64 bits.
  const auto d = static_cast<uint64_t>(dim), hd = static_cast<uint64_t>(hidden),
             l = static_cast<uint64_t>(layers), v = static_cast<uint64_t>(vocab),
             kv = static_cast<uint64_t>(head_size * kv_heads);
  uint64_t floats = v * d                                          // token embedding
                    + l * d                                        // rms_att
                    + l * d * d + 2 * l * kv * d                   // wq, wk, wv
                    + l * d * d                                    // wo
                    + l * d                                        // rms_ffn
                    + 3 * l * hd * d                               // w1, w2, w3
                    + d                                            // rms_final
                    + static_cast<uint64_t>(seq_len * head_size);  // two RoPE tables
  if (!out.shared_classifier) floats += v * d;
  out.expected_bytes = kLlama2cHeaderBytes + floats * sizeof(float);
  if (out.expected_bytes != size) {
    fail(name, "file is " + std::to_string(size) + " bytes but its header (dim " +
                   std::to_string(dim) + ", hidden_dim " + std::to_string(hidden) + ", n_layers " +
                   std::to_string(layers) + ", n_heads " + std::to_string(heads) + ", n_kv_heads " +
                   std::to_string(kv_heads) + ", vocab_size " + std::to_string(vocab_signed) +
                   ", seq_len " + std::to_string(seq_len) + ") implies " +
                   std::to_string(out.expected_bytes) + " bytes");
  }
  return out;
}

Model model_from_llama2c(const uint8_t* data, size_t size, const std::string& name) {
  const Llama2cLayout layout = parse_llama2c_layout(data, size, name);
  const ModelConfig& c = layout.config;
  Model m;
  m.path = name;
  m.format = ModelFormat::Llama2c;
  m.config = c;

  const float* p = reinterpret_cast<const float*>(data + kLlama2cHeaderBytes);
  // Takes `count` matrices of rows x cols in a row from the stream, one per layer.
  auto take = [&p](const std::string& tname, int64_t rows, int64_t cols) {
    TensorView t;
    t.name = tname;
    t.type = TensorType::F32;
    t.rows = rows;
    t.cols = cols;
    t.data = p;
    p += rows * cols;
    return t;
  };
  const int64_t dim = c.dim, hidden = c.hidden_dim, kv_dim = c.kv_dim(), L = c.n_layers;
  ModelWeights& w = m.weights;
  w.token_embd = take("token_embedding_table", c.vocab_size, dim);
  w.layers.resize(static_cast<size_t>(L));
  auto per_layer = [&](const char* base, int64_t rows, int64_t cols,
                       TensorView LayerWeights::*field) {
    for (int64_t l = 0; l < L; ++l) {
      w.layers[static_cast<size_t>(l)].*field =
          take(std::string(base) + "[" + std::to_string(l) + "]", rows, cols);
    }
  };
  per_layer("rms_att_weight", 1, dim, &LayerWeights::attn_norm);
  per_layer("wq", dim, dim, &LayerWeights::wq);
  per_layer("wk", kv_dim, dim, &LayerWeights::wk);
  per_layer("wv", kv_dim, dim, &LayerWeights::wv);
  per_layer("wo", dim, dim, &LayerWeights::wo);
  per_layer("rms_ffn_weight", 1, dim, &LayerWeights::ffn_norm);
  per_layer("w1", hidden, dim, &LayerWeights::w_gate);
  per_layer("w2", dim, hidden, &LayerWeights::w_down);
  per_layer("w3", hidden, dim, &LayerWeights::w_up);
  w.output_norm = take("rms_final_weight", 1, dim);
  p += static_cast<int64_t>(c.context_length) * c.head_size();  // legacy RoPE tables
  w.shared_classifier = layout.shared_classifier;
  if (layout.shared_classifier) {
    w.output = w.token_embd;
  } else {
    w.output = take("wcls", c.vocab_size, dim);
  }
  return m;
}

}  // namespace llmops::engine
