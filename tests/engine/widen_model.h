// Test helper: the trained test model widened so that K-quant super-blocks fit (used by
// kquant_agreement.cpp and, through widen_model_main.cpp, by the llama.cpp checkers).
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/gguf.h"
#include "engine/mapped_file.h"
#include "engine/model_writer.h"
#include "engine/quant.h"

namespace llmops::engine::widen {

struct Parsed {
  std::shared_ptr<const MappedFile> file;
  GgufFile gguf;
};

inline Parsed parse(const std::string& path) {
  auto file = MappedFile::open(path);
  GgufFile g = GgufFile::parse(file->data(), file->size(), path);
  return {file, std::move(g)};
}

inline std::vector<float> decode_tensor(const Parsed& p, const GgufTensorInfo& t) {
  std::vector<float> out(t.n_elements);
  const int64_t cols = t.dims[0], rows = static_cast<int64_t>(t.n_elements) / cols;
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(t.type, p.file->data() + t.file_offset + row_bytes(t.type, cols) * r,
                   out.data() + r * cols, cols);
  }
  return out;
}

// The trained test model (dim 64, hidden 172: no K-quant super-block fits) embedded in a
// model of dim 256, hidden 256 and 16 heads of 16 that computes the same function: its
// matrices are the originals in the top-left corner, zeros elsewhere (heads 4-15 attend
// over zero values, hidden units 172-255 are zero); norms are halved and the RMS epsilon
// quartered because the mean square now runs over 4 times the dimensions. Random-weight
// models are no test of agreement: their logits have no margins, so every rounding moves
// the argmax; a trained model's do.
inline void widen_trained_model(const std::string& models_dir, const std::string& small,
                                const std::string& wide) {
  convert_llama2c_to_gguf(
      {models_dir + "/aidreams260K.bin", models_dir + "/tok512.bin", small, TensorType::F32});
  const Parsed p = parse(small);
  constexpr int64_t kWide = 256;
  GgufWriter w;
  for (const std::string& key : p.gguf.keys()) {
    if (key == "llama.embedding_length" || key == "llama.feed_forward_length") {
      w.add_u32(key, kWide);
    } else if (key == "llama.attention.head_count" || key == "llama.attention.head_count_kv") {
      w.add_u32(key, 16);
    } else if (key == "llama.attention.layer_norm_rms_epsilon") {
      w.add_f32(key, p.gguf.get_f32(key) / 4);
    } else {
      w.add(key, *p.gguf.find(key));
    }
  }
  for (const GgufTensorInfo& t : p.gguf.tensors()) {
    const std::vector<float> v = decode_tensor(p, t);
    std::vector<float> out;
    std::vector<int64_t> dims;
    if (t.dims.size() == 1) {
      dims = {kWide};
      out.assign(kWide, 0.0f);
      for (int64_t j = 0; j < t.dims[0]; ++j) out[j] = 0.5f * v[j];
    } else {
      const int64_t cols = t.dims[0], rows = t.dims[1];
      const int64_t wide_rows = t.name == "token_embd.weight" ? rows : kWide;
      dims = {kWide, wide_rows};
      out.assign(static_cast<size_t>(kWide * wide_rows), 0.0f);
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = 0; c < cols; ++c) out[r * kWide + c] = v[r * cols + c];
      }
    }
    std::vector<uint8_t> bytes(out.size() * sizeof(float));
    std::memcpy(bytes.data(), out.data(), bytes.size());
    w.add_tensor(t.name, dims, TensorType::F32, std::move(bytes));
  }
  w.write(wide);
}

}  // namespace llmops::engine::widen
