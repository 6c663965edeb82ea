#include "engine/sampler.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

namespace llmops::engine {
namespace {

TEST(Sampler, GreedyTakesTheFirstMaximum) {
  Sampler s({.temperature = 0.0f});
  const std::vector<float> logits = {0.1f, 3.0f, -1.0f, 3.0f};
  EXPECT_EQ(s.sample(logits.data(), 4), 1);
}

TEST(Sampler, SameSeedSameSequence) {
  const std::vector<float> logits = {0.5f, 0.4f, 0.3f, 0.2f, 0.1f, 0.0f};
  auto draw = [&](uint64_t seed) {
    Sampler s({.temperature = 1.0f, .seed = seed});
    std::vector<int32_t> out;
    for (int i = 0; i < 50; ++i) out.push_back(s.sample(logits.data(), 6));
    return out;
  };
  EXPECT_EQ(draw(42), draw(42));
  EXPECT_NE(draw(42), draw(43));
}

TEST(Sampler, TopKLimitsTheCandidates) {
  const std::vector<float> logits = {1.0f, 5.0f, 4.0f, 0.0f, 3.0f};
  Sampler s({.temperature = 100.0f, .top_k = 2, .seed = 1});
  std::set<int32_t> seen;
  for (int i = 0; i < 500; ++i) seen.insert(s.sample(logits.data(), 5));
  EXPECT_EQ(seen, (std::set<int32_t>{1, 2}));
}

TEST(Sampler, TopPKeepsTheSmallestNucleus) {
  // Probabilities at temperature 1: about 0.64, 0.24, 0.09, 0.03.
  const std::vector<float> logits = {3.0f, 2.0f, 1.0f, 0.0f};
  Sampler s({.temperature = 1.0f, .top_p = 0.8f, .seed = 9});
  std::map<int32_t, int> counts;
  for (int i = 0; i < 2000; ++i) ++counts[s.sample(logits.data(), 4)];
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_GT(counts[0], counts[1]);
}

TEST(Sampler, TemperatureSamplesFollowTheDistribution) {
  const std::vector<float> logits = {0.0f, 0.0f};  // 50/50
  Sampler s({.temperature = 1.0f, .seed = 5});
  int ones = 0;
  for (int i = 0; i < 4000; ++i) ones += s.sample(logits.data(), 2);
  EXPECT_GT(ones, 1800);
  EXPECT_LT(ones, 2200);
}

TEST(Sampler, RejectsInvalidOptions) {
  EXPECT_THROW(Sampler({.temperature = -1.0f}), std::invalid_argument);
  EXPECT_THROW(Sampler({.top_p = 0.0f}), std::invalid_argument);
  EXPECT_THROW(Sampler({.top_p = 1.5f}), std::invalid_argument);
  EXPECT_THROW(Sampler({.top_k = -3}), std::invalid_argument);
}

}  // namespace
}  // namespace llmops::engine
