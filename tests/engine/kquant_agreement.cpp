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
#include "widen_model.h"

namespace llmops::engine {
namespace {

using test_files::TempDir;

const std::string kModels = std::string(LLMOPS_SHARED_DIR) + "/models";

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

std::string padded_trained_model(const TempDir& dir) {
  const std::string wide = dir.file("aidreams-wide-f32.gguf");
  widen::widen_trained_model(kModels, dir.file("aidreams-f32.gguf"), wide);
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
