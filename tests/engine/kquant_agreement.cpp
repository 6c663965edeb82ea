// The K-quant mixes against F32 on a trained model: next-token agreement, teacher-forced
// over llama2.c's reference sequences. An optimized build (ctest label "integration"):
// under the sanitizers the quantization and 3 × 128 forward passes per type take minutes.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/gguf.h"
#include "engine/gguf_convert.h"
#include "engine/kv_cache.h"
#include "engine/mapped_file.h"
#include "engine/model.h"
#include "engine/model_writer.h"
#include "engine/quant.h"
#include "engine/transformer.h"
#include "kernel_variants.h"
#include "test_files.h"

namespace llmops::engine {
namespace {

using test_files::TempDir;

const std::string kModels = std::string(LLMOPS_SHARED_DIR) + "/models";

struct Parsed {
  std::shared_ptr<const MappedFile> file;
  GgufFile gguf;
};

Parsed parse(const std::string& path) {
  auto file = MappedFile::open(path);
  GgufFile g = GgufFile::parse(file->data(), file->size(), path);
  return {file, std::move(g)};
}

std::vector<float> decode_tensor(const Parsed& p, const GgufTensorInfo& t) {
  std::vector<float> out(t.n_elements);
  const int64_t cols = t.dims[0], rows = static_cast<int64_t>(t.n_elements) / cols;
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(t.type, p.file->data() + t.file_offset + row_bytes(t.type, cols) * r,
                   out.data() + r * cols, cols);
  }
  return out;
}

int argmax(const float* v, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i) {
    if (v[i] > v[best]) best = i;
  }
  return best;
}

std::vector<int> read_ids(const std::string& path) {
  std::ifstream in(path);
  std::vector<int> ids;
  for (int id; in >> id;) ids.push_back(id);
  if (ids.empty()) throw std::runtime_error("no ids in " + path);
  return ids;
}

// The trained test model (dim 64, hidden 172: no K-quant super-block fits) embedded in a
// model of dim 256, hidden 256 and 16 heads of 16 that computes the same function: its
// matrices are the originals in the top-left corner, zeros elsewhere (heads 4-15 attend
// over zero values, hidden units 172-255 are zero); norms are halved and the RMS epsilon
// quartered because the mean square now runs over 4 times the dimensions. Random-weight
// models are no test of agreement: their logits have no margins, so every rounding moves
// the argmax; a trained model's do.
std::string padded_trained_model(const TempDir& dir) {
  const std::string small = dir.file("aidreams-f32.gguf");
  convert_llama2c_to_gguf(
      {kModels + "/aidreams260K.bin", kModels + "/tok512.bin", small, TensorType::F32});
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
  const std::string wide = dir.file("aidreams-wide-f32.gguf");
  w.write(wide);
  return wide;
}

// The argmax after each token fed, over the first 128 positions of each reference
// sequence (llama2.c's greedy continuations of three prompts).
std::vector<int> next_tokens(const Model& model) {
  std::vector<int> out;
  for (const char* name : {"empty", "The_robot", "Whispers_of"}) {
    const std::vector<int> ids = read_ids(kModels + "/reference/ids_" + name + ".txt");
    Transformer transformer(model);
    KvCache cache(model.config, model.config.context_length);
    for (size_t pos = 0; pos + 1 < ids.size(); ++pos) {
      const float* logits = transformer.forward(cache, ids[pos], static_cast<int>(pos));
      out.push_back(argmax(logits, model.config.vocab_size));
    }
  }
  return out;
}

// Teacher-forced over 3 × 128 positions: the mixes' next token equals F32's at ≥ 95% of
// them (the padded F32 model itself reproduces llama2.c's greedy ids).
TEST(ConvertGguf, MixesAgreeWithF32OnNextTokens) {
  TempDir dir;
  const std::string f32 = padded_trained_model(dir);
  const Model reference = load_model(f32);
  const std::vector<int> want = next_tokens(reference);
  {
    std::vector<int> greedy;  // the reference ids after BOS, as far as they are greedy
    for (const char* name : {"empty", "The_robot", "Whispers_of"}) {
      const std::vector<int> ids = read_ids(kModels + "/reference/ids_" + name + ".txt");
      greedy.insert(greedy.end(), ids.begin() + 1, ids.end());
    }
    int same = 0;
    for (size_t i = 0; i < want.size(); ++i) same += want[i] == greedy[i];
    EXPECT_GE(same, static_cast<int>(want.size()) - 12);  // the prompts' own tokens differ
  }
  struct Case {
    const char* type;
    double minimum;
  };
  for (const Case& c : {Case{"q4_k_m", 0.95}, Case{"q5_k_m", 0.95}, Case{"q6_k", 0.95},
                        Case{"q4_k", 0.9}, Case{"bf16", 0.98}}) {
    const std::string out = dir.file(std::string(c.type) + ".gguf");
    convert_gguf({f32, out, parse_file_type(c.type)});
    const Model model = load_model(out);
    for (KernelVariant v : supported_variants()) {
      VariantScope scope(v);
      const std::vector<int> got = next_tokens(model);
      int agree = 0;
      for (size_t i = 0; i < got.size(); ++i) agree += got[i] == want[i];
      const double agreement = static_cast<double>(agree) / static_cast<double>(got.size());
      std::printf("teacher-forced next-token agreement with f32, %s, %s kernels: %.4f\n", c.type,
                  std::string(kernel_variant_name(v)).c_str(), agreement);
      EXPECT_GE(agreement, c.minimum) << c.type << " " << kernel_variant_name(v);
    }
  }
}

}  // namespace
}  // namespace llmops::engine
