#include "engine/quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace llmops::engine {
namespace {

TEST(Fp16, ExactValuesRoundTrip) {
  for (float f : {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.103515625e-05f, 5.9604645e-08f}) {
    EXPECT_EQ(fp16_to_fp32(fp32_to_fp16(f)), f) << f;
  }
}

TEST(Fp16, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = fp16_to_fp32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(f))));
    } else {
      EXPECT_EQ(fp32_to_fp16(f), h) << std::hex << h;
    }
  }
}

TEST(Fp16, RoundsToNearestEvenAndSaturatesToInfinity) {
  EXPECT_EQ(fp32_to_fp16(1.0f + 1.0f / 2048.0f), 0x3c00);  // tie: even mantissa stays
  EXPECT_EQ(fp32_to_fp16(1.0f + 3.0f / 2048.0f), 0x3c02);  // tie: rounds up to even
  EXPECT_EQ(fp32_to_fp16(1e6f), 0x7c00);
  EXPECT_EQ(fp32_to_fp16(-1e6f), 0xfc00);
  EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(fp32_to_fp16(1e-10f), 0x0000);
}

std::vector<float> random_row(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

struct QuantCase {
  TensorType type;
  float max_relative_error;  // against the block's largest magnitude
};

class QuantRoundTrip : public ::testing::TestWithParam<QuantCase> {};

TEST_P(QuantRoundTrip, ErrorIsBoundedByTheBlockScale) {
  const auto [type, bound] = GetParam();
  const int n = 256;
  const auto x = random_row(n, 7);
  std::vector<uint8_t> bytes(row_bytes(type, n));
  quantize_row(type, x.data(), bytes.data(), n);
  std::vector<float> y(n);
  dequantize_row(type, bytes.data(), y.data(), n);
  for (int b = 0; b < n / kQuantBlock; ++b) {
    float amax = 0;
    for (int j = 0; j < kQuantBlock; ++j) amax = std::max(amax, std::fabs(x[b * kQuantBlock + j]));
    for (int j = 0; j < kQuantBlock; ++j) {
      const int i = b * kQuantBlock + j;
      EXPECT_LE(std::fabs(x[i] - y[i]), bound * amax) << "element " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, QuantRoundTrip,
                         ::testing::Values(QuantCase{TensorType::F32, 0.0f},
                                           QuantCase{TensorType::F16, 1e-3f},
                                           QuantCase{TensorType::Q8_0, 0.5f / 127 + 1e-3f},
                                           QuantCase{TensorType::Q4_0, 1.0f / 8 + 1e-3f}));

TEST(Quant, Q8_0MatchesGgmlLayout) {
  std::vector<float> x(32);
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i - 16);  // amax 16
  BlockQ8_0 block;
  quantize_row(TensorType::Q8_0, x.data(), &block, 32);
  EXPECT_EQ(fp16_to_fp32(block.d), fp16_to_fp32(fp32_to_fp16(16.0f / 127.0f)));
  EXPECT_EQ(block.qs[0], -127);
  EXPECT_EQ(block.qs[16], 0);
}

TEST(Quant, Q4_0UsesTheSignedMaximumAndNibbleOrder) {
  std::vector<float> x(32, 0.0f);
  x[0] = -8.0f;  // largest magnitude, negative: d = -8 / -8 = 1
  x[1] = 3.0f;
  x[17] = -2.0f;
  BlockQ4_0 block;
  quantize_row(TensorType::Q4_0, x.data(), &block, 32);
  EXPECT_EQ(fp16_to_fp32(block.d), 1.0f);
  EXPECT_EQ(block.qs[0] & 0x0f, 0);   // -8 -> nibble 0
  EXPECT_EQ(block.qs[1] & 0x0f, 11);  // 3 -> nibble 11
  EXPECT_EQ(block.qs[1] >> 4, 6);     // element 17: -2 -> nibble 6
  std::vector<float> y(32);
  dequantize_row(TensorType::Q4_0, &block, y.data(), 32);
  EXPECT_EQ(y[0], -8.0f);
  EXPECT_EQ(y[1], 3.0f);
  EXPECT_EQ(y[17], -2.0f);
}

TEST(Quant, RowsNotMultipleOf32AreRejectedForQuantizedTypes) {
  EXPECT_THROW(row_bytes(TensorType::Q8_0, 172), std::invalid_argument);
  EXPECT_THROW(row_bytes(TensorType::Q4_0, 33), std::invalid_argument);
  EXPECT_EQ(row_bytes(TensorType::F16, 172), 344u);
  EXPECT_EQ(row_bytes(TensorType::Q8_0, 64), 68u);
  EXPECT_EQ(row_bytes(TensorType::Q4_0, 64), 36u);
}

TEST(Quant, TypeNamesParse) {
  EXPECT_EQ(parse_type_name("q8_0"), TensorType::Q8_0);
  EXPECT_EQ(parse_type_name("f16"), TensorType::F16);
  EXPECT_THROW(parse_type_name("q3_k"), std::invalid_argument);
  EXPECT_TRUE(is_supported_type(8));
  EXPECT_FALSE(is_supported_type(3));
}

}  // namespace
}  // namespace llmops::engine
