// Test helpers for model files: temporary directories, raw byte files, tiny llama2.c
// checkpoints and tiny Llama GGUFs whose every key and tensor a test can omit or change.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/gguf.h"
#include "engine/quant.h"
#include "engine/tensor.h"

namespace llmops::test_files {

using engine::GgufValue;
using engine::GgufWriter;
using engine::quantize_row;
using engine::row_bytes;
using engine::TensorType;

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/llmops-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

// Little-endian byte building for hand-made (often broken) files.
struct ByteBuilder {
  std::vector<uint8_t> bytes;

  template <typename T>
  ByteBuilder& put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof(T));
    return *this;
  }
  ByteBuilder& u32(uint32_t v) { return put(v); }
  ByteBuilder& u64(uint64_t v) { return put(v); }
  ByteBuilder& str(const std::string& s) {
    u64(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
    return *this;
  }
  ByteBuilder& raw(const std::string& s) {
    bytes.insert(bytes.end(), s.begin(), s.end());
    return *this;
  }
  ByteBuilder& pad_to(size_t alignment) {
    while (bytes.size() % alignment != 0) bytes.push_back(0);
    return *this;
  }
};

// Deterministic small float values (no <random>, so files are stable everywhere).
inline float test_value(uint64_t i) {
  return static_cast<float>(static_cast<int64_t>((i * 2654435761u) % 2001) - 1000) / 4000.0f;
}

// A llama2.c checkpoint: header then the weights (values test_value(i)), RoPE tables,
// and `wcls` when !shared.
struct Llama2cSpec {
  int32_t dim = 8, hidden_dim = 16, n_layers = 1, n_heads = 2, n_kv_heads = 1, vocab_size = 8,
          seq_len = 4;
  bool shared = true;

  size_t float_count() const {
    const size_t d = dim, hd = hidden_dim, l = n_layers, v = vocab_size,
                 kv = static_cast<size_t>(dim / n_heads * n_kv_heads);
    size_t n = v * d + l * d + l * d * d + 2 * l * kv * d + l * d * d + l * d + 3 * l * hd * d + d +
               static_cast<size_t>(seq_len) * static_cast<size_t>(dim / n_heads);
    if (!shared) n += v * d;
    return n;
  }

  // Just the header and `floats` zeros: enough for header checks with absurd values.
  std::vector<uint8_t> header_bytes(size_t floats = 64) const {
    ByteBuilder b;
    for (int32_t v : {dim, hidden_dim, n_layers, n_heads, n_kv_heads,
                      shared ? vocab_size : -vocab_size, seq_len}) {
      b.put(v);
    }
    b.bytes.resize(b.bytes.size() + floats * sizeof(float), 0);
    return b.bytes;
  }

  std::vector<uint8_t> bytes() const {
    ByteBuilder b;
    b.bytes = header_bytes(0);
    const size_t n = float_count();
    for (size_t i = 0; i < n; ++i) b.put(test_value(i));
    return b.bytes;
  }
};

// A tokenizer.bin: max_token_length, then (score, length, bytes) per piece.
inline std::vector<uint8_t> tokenizer_bin(const std::vector<std::string>& pieces) {
  ByteBuilder b;
  uint32_t max_len = 0;
  for (const auto& p : pieces) max_len = std::max<uint32_t>(max_len, p.size());
  b.u32(max_len);
  for (size_t i = 0; i < pieces.size(); ++i) {
    b.put(static_cast<float>(i) * -0.5f);
    b.put(static_cast<int32_t>(pieces[i].size()));
    b.raw(pieces[i]);
  }
  return b.bytes;
}

inline std::vector<std::string> tiny_pieces(int n) {
  std::vector<std::string> pieces = {"<unk>", "<s>", "</s>"};
  for (int i = 3; i < n; ++i) pieces.push_back(" t" + std::to_string(i));
  return pieces;
}

// A tiny but complete Llama GGUF built with GgufWriter. Every key and tensor can be
// left out (skip_*), replaced (keys) or reshaped / retyped (dims, types) to make the
// broken files the loader tests need.
struct TinyLlamaGguf {
  int dim = 32, hidden_dim = 64, n_layers = 2, n_heads = 4, n_kv_heads = 2, vocab = 8, context = 16;
  TensorType type = TensorType::F32;
  TensorType norm_type = TensorType::F32;
  bool shared_classifier = true;
  std::set<std::string> skip_keys, skip_tensors;
  std::map<std::string, GgufValue> keys;  // added or replacing the defaults
  std::map<std::string, std::vector<int64_t>> dims;
  std::map<std::string, TensorType> types;

  // name -> (rows, cols); rows == 0 marks a 1-D norm.
  std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> tensor_shapes() const {
    const int64_t kv_dim = dim / n_heads * n_kv_heads;
    std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> t;
    t.push_back({"token_embd.weight", {vocab, dim}});
    for (int l = 0; l < n_layers; ++l) {
      const std::string p = "blk." + std::to_string(l) + ".";
      t.push_back({p + "attn_norm.weight", {0, dim}});
      t.push_back({p + "attn_q.weight", {dim, dim}});
      t.push_back({p + "attn_k.weight", {kv_dim, dim}});
      t.push_back({p + "attn_v.weight", {kv_dim, dim}});
      t.push_back({p + "attn_output.weight", {dim, dim}});
      t.push_back({p + "ffn_norm.weight", {0, dim}});
      t.push_back({p + "ffn_gate.weight", {hidden_dim, dim}});
      t.push_back({p + "ffn_up.weight", {hidden_dim, dim}});
      t.push_back({p + "ffn_down.weight", {dim, hidden_dim}});
    }
    t.push_back({"output_norm.weight", {0, dim}});
    if (!shared_classifier) t.push_back({"output.weight", {vocab, dim}});
    return t;
  }

  GgufWriter writer() const {
    std::vector<std::pair<std::string, GgufValue>> kv = {
        {"general.architecture", GgufValue::scalar(std::string("llama"))},
        {"general.alignment", GgufValue::scalar(uint32_t{32})},
        {"llama.context_length", GgufValue::scalar(static_cast<uint32_t>(context))},
        {"llama.embedding_length", GgufValue::scalar(static_cast<uint32_t>(dim))},
        {"llama.block_count", GgufValue::scalar(static_cast<uint32_t>(n_layers))},
        {"llama.feed_forward_length", GgufValue::scalar(static_cast<uint32_t>(hidden_dim))},
        {"llama.attention.head_count", GgufValue::scalar(static_cast<uint32_t>(n_heads))},
        {"llama.attention.head_count_kv", GgufValue::scalar(static_cast<uint32_t>(n_kv_heads))},
        {"llama.rope.dimension_count", GgufValue::scalar(static_cast<uint32_t>(dim / n_heads))},
        {"llama.attention.layer_norm_rms_epsilon", GgufValue::scalar(1e-5f)},
        {"llama.rope.freq_base", GgufValue::scalar(10000.0f)},
        {"tokenizer.ggml.model", GgufValue::scalar(std::string("llama"))},
    };
    std::vector<std::string> tokens;
    std::vector<float> scores;
    std::vector<int32_t> token_types;
    for (const std::string& p : tiny_pieces(vocab)) {
      std::string g;
      for (char c : p) g += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
      tokens.push_back(g);
      scores.push_back(-static_cast<float>(scores.size()));
      token_types.push_back(token_types.size() < 3 ? 3 : 1);
    }
    kv.push_back({"tokenizer.ggml.tokens", GgufValue::array(tokens)});
    kv.push_back({"tokenizer.ggml.scores", GgufValue::array(scores)});
    kv.push_back({"tokenizer.ggml.token_type", GgufValue::array(token_types)});
    kv.push_back({"tokenizer.ggml.bos_token_id", GgufValue::scalar(uint32_t{1})});
    kv.push_back({"tokenizer.ggml.eos_token_id", GgufValue::scalar(uint32_t{2})});

    GgufWriter w;
    std::set<std::string> written;
    for (auto& [k, v] : kv) {
      if (skip_keys.count(k) != 0) continue;
      auto over = keys.find(k);
      w.add(k, over != keys.end() ? over->second : v);
      written.insert(k);
    }
    for (const auto& [k, v] : keys) {
      if (written.count(k) == 0 && skip_keys.count(k) == 0) w.add(k, v);
    }
    uint64_t counter = 0;
    for (const auto& [name, shape] : tensor_shapes()) {
      if (skip_tensors.count(name) != 0) continue;
      const bool is_norm = shape.first == 0;
      std::vector<int64_t> d = is_norm ? std::vector<int64_t>{shape.second}
                                       : std::vector<int64_t>{shape.second, shape.first};
      if (auto it = dims.find(name); it != dims.end()) d = it->second;
      TensorType t = is_norm ? norm_type : type;
      if (auto it = types.find(name); it != types.end()) t = it->second;
      int64_t rows = 1;
      for (size_t i = 1; i < d.size(); ++i) rows *= d[i];
      std::vector<uint8_t> bytes(row_bytes(t, d[0]) * static_cast<size_t>(rows));
      std::vector<float> row(static_cast<size_t>(d[0]));
      for (int64_t r = 0; r < rows; ++r) {
        for (auto& x : row) x = is_norm ? 1.0f + test_value(counter++) : test_value(counter++);
        quantize_row(t, row.data(), bytes.data() + static_cast<size_t>(r) * row_bytes(t, d[0]),
                     d[0]);
      }
      w.add_tensor(name, d, t, std::move(bytes));
    }
    return w;
  }

  std::vector<uint8_t> bytes() const { return writer().to_bytes(); }
};

}  // namespace llmops::test_files
