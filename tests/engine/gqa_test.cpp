// Grouped-query attention equals multi-head attention with each K/V head repeated for
// the query heads that share it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <vector>

#include "engine/kernels.h"
#include "engine/model.h"
#include "engine/model_writer.h"
#include "engine/transformer.h"

namespace llmops::engine {
namespace {

// An F32 view whose rows are `w`'s K/V heads each repeated `group` times.
TensorView repeat_heads(const TensorView& w, int head_size, int group,
                        std::vector<float>& storage) {
  const int64_t kv_heads = w.rows / head_size;
  storage.resize(static_cast<size_t>(w.rows * group * w.cols));
  std::vector<float> row(w.cols);
  int64_t out_row = 0;
  for (int64_t h = 0; h < kv_heads; ++h) {
    for (int g = 0; g < group; ++g) {
      for (int r = 0; r < head_size; ++r) {
        get_row(w, h * head_size + r, row.data());
        std::memcpy(storage.data() + out_row * w.cols, row.data(), w.cols * sizeof(float));
        ++out_row;
      }
    }
  }
  return TensorView{w.name + ".repeated", TensorType::F32, w.rows * group, w.cols, storage.data()};
}

TEST(GroupedQueryAttention, MatchesMultiHeadWithRepeatedKvHeads) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("llmops-gqa-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  MakeModelOptions options;
  options.dim = 64;
  options.hidden_dim = 96;
  options.n_layers = 2;
  options.n_heads = 8;
  options.n_kv_heads = 2;
  options.context_length = 32;
  options.out = (dir / "gqa.gguf").string();
  options.seed = 11;
  make_model(options);
  const Model gqa = load_model(options.out);
  ASSERT_EQ(gqa.config.n_kv_heads, 2);

  Model mha = gqa;  // same weights, K/V heads repeated
  const int group = gqa.config.n_heads / gqa.config.n_kv_heads;
  mha.config.n_kv_heads = gqa.config.n_heads;
  mha.owned.clear();
  mha.owned.reserve(2 * gqa.config.n_layers);
  for (auto& layer : mha.weights.layers) {
    mha.owned.emplace_back();
    layer.wk = repeat_heads(layer.wk, gqa.config.head_size(), group, mha.owned.back());
    mha.owned.emplace_back();
    layer.wv = repeat_heads(layer.wv, gqa.config.head_size(), group, mha.owned.back());
  }

  Transformer a(gqa), b(mha);
  KvCache cache_a(gqa.config, 32), cache_b(mha.config, 32);
  const std::vector<int32_t> tokens = {1, 72, 101, 108, 108, 111, 35, 200, 3, 258};
  for (size_t pos = 0; pos < tokens.size(); ++pos) {
    const float* la = a.forward(cache_a, tokens[pos], static_cast<int>(pos));
    const float* lb = b.forward(cache_b, tokens[pos], static_cast<int>(pos));
    for (int i = 0; i < gqa.config.vocab_size; ++i) {
      ASSERT_NEAR(la[i], lb[i], 1e-5) << "pos " << pos << " logit " << i;
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace llmops::engine
