// attention_head on every kernel variant against softmax attention computed in double,
// for head sizes that leave partial SIMD chunks and cached rows wider than a head.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "engine/kernels.h"
#include "kernel_variants.h"

namespace llmops::engine {
namespace {

TEST(AttentionHead, EveryVariantMatchesDoublePrecision) {
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (int head_size : {4, 20, 64, 72}) {
    const int64_t stride = head_size * 3;  // three heads per cached row; use the middle one
    for (int positions : {1, 2, 17, 40}) {
      std::vector<float> q(head_size), keys(positions * stride), values(positions * stride);
      for (auto& v : q) v = dist(rng);
      for (auto& v : keys) v = dist(rng);
      for (auto& v : values) v = dist(rng);
      const float* k = keys.data() + head_size;
      const float* v = values.data() + head_size;
      std::vector<double> weights(positions), want(head_size, 0.0);
      double max = -1e300, sum = 0;
      for (int p = 0; p < positions; ++p) {
        double s = 0;
        for (int i = 0; i < head_size; ++i) s += double{q[i]} * k[p * stride + i];
        weights[p] = s / std::sqrt(static_cast<double>(head_size));
        max = std::max(max, weights[p]);
      }
      for (auto& w : weights) sum += (w = std::exp(w - max));
      for (int p = 0; p < positions; ++p) {
        for (int i = 0; i < head_size; ++i) want[i] += weights[p] / sum * v[p * stride + i];
      }
      for (KernelVariant variant : supported_variants()) {
        SCOPED_TRACE(std::string(kernel_variant_name(variant)) + " head " +
                     std::to_string(head_size) + " positions " + std::to_string(positions));
        VariantScope scope(variant);
        std::vector<float> att(positions), out(head_size + 1, -7.0f);
        attention_head(q.data(), k, v, stride, positions, head_size, att.data(), out.data());
        for (int i = 0; i < head_size; ++i) ASSERT_NEAR(out[i], want[i], 1e-5) << "dim " << i;
        EXPECT_EQ(out[head_size], -7.0f) << "wrote past the head";
      }
    }
  }
}

TEST(AttentionHead, RefusesNoPositions) {
  float x[4] = {};
  EXPECT_THROW(attention_head(x, x, x, 4, 0, 4, x, x), std::invalid_argument);
}

}  // namespace
}  // namespace llmops::engine
