// Batching never changes results: tokens of several sequences run together give
// bit-identical logits to each sequence run alone, one token at a time, with every
// kernel variant.
#include "engine/transformer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "engine/model_writer.h"
#include "engine/thread_pool.h"
#include "kernel_variants.h"

namespace llmops::engine {
namespace {

// Runs three sequences alone, token by token, then together (a prefill batch, then one
// token of each running sequence per step) and compares every logit bit for bit.
void expect_batched_equals_sequential(const Model& model) {
  const int vocab = model.config.vocab_size;
  const std::vector<std::vector<int32_t>> seqs = {
      {1, 10, 20, 30, 40, 50}, {1, 99}, {1, 7, 7, 7, 200, 201, 202, 203}};

  // Alone, one token at a time.
  std::vector<std::vector<std::vector<float>>> expected(seqs.size());
  Transformer single(model);
  for (size_t s = 0; s < seqs.size(); ++s) {
    KvCache cache(model.config, 32);
    for (size_t p = 0; p < seqs[s].size(); ++p) {
      const float* l = single.forward(cache, seqs[s][p], static_cast<int>(p));
      expected[s].emplace_back(l, l + vocab);
    }
  }

  // Together: the first two tokens of each sequence as one prefill batch, then one token
  // of each still-running sequence per step.
  ThreadPool pool(3);  // threads split rows, heads and tokens: results must not change
  Transformer batched(model, &pool);
  std::vector<KvCache> caches(seqs.size(), KvCache(model.config, 32));
  std::vector<BatchToken> prefill;
  for (size_t s = 0; s < seqs.size(); ++s) {
    for (size_t p = 0; p < 2 && p < seqs[s].size(); ++p) {
      prefill.push_back({&caches[s], seqs[s][p], static_cast<int>(p), true});
    }
  }
  auto logits = batched.forward_batch(prefill);
  size_t k = 0;
  for (size_t s = 0; s < seqs.size(); ++s) {
    for (size_t p = 0; p < 2 && p < seqs[s].size(); ++p, ++k) {
      const std::vector<float> got(logits.begin() + k * vocab, logits.begin() + (k + 1) * vocab);
      EXPECT_EQ(got, expected[s][p]) << "prefill seq " << s << " pos " << p;
    }
  }
  for (size_t p = 2;; ++p) {
    std::vector<BatchToken> step;
    std::vector<size_t> who;
    for (size_t s = 0; s < seqs.size(); ++s) {
      if (p < seqs[s].size()) {
        step.push_back({&caches[s], seqs[s][p], static_cast<int>(p), true});
        who.push_back(s);
      }
    }
    if (step.empty()) break;
    logits = batched.forward_batch(step);
    for (size_t i = 0; i < who.size(); ++i) {
      const std::vector<float> got(logits.begin() + i * vocab, logits.begin() + (i + 1) * vocab);
      EXPECT_EQ(got, expected[who[i]][p]) << "seq " << who[i] << " pos " << p;
    }
  }
}

class TransformerBatch : public ::testing::TestWithParam<TensorType> {};

TEST_P(TransformerBatch, BatchedEqualsSequentialBitForBit) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("llmops-batch-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  MakeModelOptions options;
  options.dim = 64;
  options.hidden_dim = 128;
  options.n_layers = 2;
  options.n_heads = 4;
  options.n_kv_heads = 2;
  options.context_length = 32;
  options.type = GetParam();
  options.out = (dir / "m.gguf").string();
  make_model(options);
  const Model model = load_model(options.out);
  for (KernelVariant v : supported_variants()) {
    SCOPED_TRACE("kernels " + std::string(kernel_variant_name(v)));
    VariantScope scope(v);
    expect_batched_equals_sequential(model);
  }
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Types, TransformerBatch,
                         ::testing::Values(TensorType::F32, TensorType::F16, TensorType::Q8_0,
                                           TensorType::Q4_0));

// The same for each architecture's extra steps (biases, Q/K norms, post-norms, GELU,
// sliding windows shorter than the sequences, a head size that is not dim / heads).
struct ArchCase {
  const char* arch;
  int head_dim;
  int sliding_window;
  bool rope_freqs;
};

class ArchBatch : public ::testing::TestWithParam<ArchCase> {};

TEST_P(ArchBatch, BatchedEqualsSequentialBitForBit) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("llmops-arch-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  MakeModelOptions options;
  options.arch = GetParam().arch;
  options.dim = 64;
  options.hidden_dim = 128;
  options.n_layers = 7;  // Gemma 3: layer 5 global, the others sliding
  options.n_heads = 4;
  options.n_kv_heads = 2;
  options.head_dim = GetParam().head_dim;
  options.sliding_window = GetParam().sliding_window;
  options.rope_freqs = GetParam().rope_freqs;
  options.context_length = 32;
  options.out = (dir / "m.gguf").string();
  make_model(options);
  const Model model = load_model(options.out);
  for (KernelVariant v : supported_variants()) {
    SCOPED_TRACE("kernels " + std::string(kernel_variant_name(v)));
    VariantScope scope(v);
    expect_batched_equals_sequential(model);
  }
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Archs, ArchBatch,
                         ::testing::Values(ArchCase{"llama", 0, 0, true},
                                           ArchCase{"qwen2", 0, 0, false},
                                           ArchCase{"qwen3", 32, 0, false},
                                           ArchCase{"gemma3", 32, 3, false}),
                         [](const auto& info) { return std::string(info.param.arch); });

TEST(Transformer, RejectsTokensAndPositionsOutOfRange) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("llmops-range-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  MakeModelOptions options;
  options.dim = 32;
  options.hidden_dim = 64;
  options.n_layers = 1;
  options.n_heads = 2;
  options.n_kv_heads = 2;
  options.context_length = 8;
  options.out = (dir / "m.gguf").string();
  make_model(options);
  const Model model = load_model(options.out);
  Transformer t(model);
  KvCache cache(model.config, 8);
  EXPECT_THROW(t.forward(cache, model.config.vocab_size, 0), std::out_of_range);
  EXPECT_THROW(t.forward(cache, -1, 0), std::out_of_range);
  EXPECT_THROW(t.forward(cache, 1, 8), std::out_of_range);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace llmops::engine
