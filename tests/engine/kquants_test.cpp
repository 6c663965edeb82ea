// The K-quant super-block encodings and BF16: decoding of hand-built blocks by the
// layout ggml documents, encode → decode error bounds, and odd inputs.
#include "engine/kquants.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "engine/quant.h"

namespace llmops::engine {
namespace {

std::vector<float> normal_row(int64_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

std::vector<float> round_trip(TensorType type, const std::vector<float>& x) {
  const auto n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> bytes(row_bytes(type, n));
  quantize_row(type, x.data(), bytes.data(), n);
  std::vector<float> y(x.size());
  dequantize_row(type, bytes.data(), y.data(), n);
  return y;
}

TEST(KquantTypes, SizesNamesAndIds) {
  EXPECT_EQ(row_bytes(TensorType::Q4_K, 512), 288u);
  EXPECT_EQ(row_bytes(TensorType::Q5_K, 256), 176u);
  EXPECT_EQ(row_bytes(TensorType::Q6_K, 768), 630u);
  EXPECT_EQ(row_bytes(TensorType::BF16, 3), 6u);
  EXPECT_THROW(row_bytes(TensorType::Q4_K, 288), std::invalid_argument);
  EXPECT_EQ(parse_type_name("q6_k"), TensorType::Q6_K);
  EXPECT_EQ(parse_type_name("bf16"), TensorType::BF16);
  EXPECT_THROW(parse_type_name("q4_k_m"), std::invalid_argument);  // a mix, not a type
  for (uint32_t id : {12u, 13u, 14u, 30u}) EXPECT_TRUE(is_supported_type(id)) << id;
  for (uint32_t id : {3u, 6u, 10u, 11u, 15u, 29u, 31u}) EXPECT_FALSE(is_supported_type(id)) << id;
  EXPECT_TRUE(is_kquant(TensorType::Q5_K));
  EXPECT_FALSE(is_kquant(TensorType::Q8_0));
  EXPECT_TRUE(is_quantized(TensorType::Q6_K));
  EXPECT_FALSE(is_quantized(TensorType::BF16));
}

// The 12-byte scale packing, every sub-block, against values placed by hand.
TEST(KquantLayout, ScalesAndMinsUnpackAsDocumented) {
  uint8_t packed[kScaleBytes] = {};
  // sc[j] = 10 + j, m[j] = 40 + j (all need 6 bits; the upper four need the top bits).
  for (int j = 0; j < 4; ++j) {
    const int sc_hi = 10 + j + 4, m_hi = 40 + j + 4;
    packed[j] = static_cast<uint8_t>((10 + j) | ((sc_hi >> 4) << 6));
    packed[j + 4] = static_cast<uint8_t>((40 + j) | ((m_hi >> 4) << 6));
    packed[j + 8] = static_cast<uint8_t>((sc_hi & 15) | ((m_hi & 15) << 4));
  }
  for (int j = 0; j < 8; ++j) {
    uint8_t sc = 0, m = 0;
    unpack_scale_min(packed, j, &sc, &m);
    EXPECT_EQ(sc, 10 + j) << j;
    EXPECT_EQ(m, 40 + j) << j;
  }
}

// A Q4_K block built byte by byte decodes to d·sc·q − dmin·m with the documented order.
TEST(KquantLayout, Q4KDecodesElementsInGgmlOrder) {
  BlockQ4_K b{};
  b.d = fp32_to_fp16(0.5f);
  b.dmin = fp32_to_fp16(0.25f);
  for (int j = 0; j < 4; ++j) {
    b.scales[j] = static_cast<uint8_t>(j + 1);  // sc[j] = j + 1, sc[j + 4] = j + 5
    b.scales[j + 4] = static_cast<uint8_t>(j);  // m[j] = j, m[j + 4] = j + 4
    b.scales[j + 8] = static_cast<uint8_t>((j + 5) | ((j + 4) << 4));
  }
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>((i % 16) | (((i + 3) % 16) << 4));
  std::vector<float> y(256);
  dequantize_row(TensorType::Q4_K, &b, y.data(), 256);
  for (int e = 0; e < 256; ++e) {
    const int chunk = e / 64, within = e % 64, sub = e / 32;
    const uint8_t byte = b.qs[32 * chunk + within % 32];
    const int q = within < 32 ? byte & 15 : byte >> 4;
    const float sc = static_cast<float>(sub + 1), m = static_cast<float>(sub);
    ASSERT_EQ(y[e], 0.5f * sc * static_cast<float>(q) - 0.25f * m) << "element " << e;
  }
}

TEST(KquantLayout, Q5KTakesTheFifthBitFromQh) {
  BlockQ5_K b{};
  b.d = fp32_to_fp16(1.0f);
  b.dmin = fp32_to_fp16(0.0f);
  for (int j = 0; j < 4; ++j) {
    b.scales[j] = 1;
    b.scales[j + 8] = 1;  // sc[j + 4] = 1, mins 0
  }
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>((i % 16) | ((15 - i % 16) << 4));
  for (int l = 0; l < 32; ++l) b.qh[l] = static_cast<uint8_t>(l * 7 + 1);
  std::vector<float> y(256);
  dequantize_row(TensorType::Q5_K, &b, y.data(), 256);
  for (int e = 0; e < 256; ++e) {
    const int chunk = e / 64, within = e % 64, l = within % 32;
    const uint8_t byte = b.qs[32 * chunk + l];
    const int bit = within < 32 ? 2 * chunk : 2 * chunk + 1;
    const int q = (within < 32 ? byte & 15 : byte >> 4) | (((b.qh[l] >> bit) & 1) << 4);
    ASSERT_EQ(y[e], static_cast<float>(q)) << "element " << e;
  }
}

TEST(KquantLayout, Q6KCombinesLowAndHighBitsPerGroup) {
  BlockQ6_K b{};
  b.d = fp32_to_fp16(0.125f);
  for (int g = 0; g < 16; ++g) b.scales[g] = static_cast<int8_t>(g % 2 ? -(g + 1) : g + 1);
  for (int i = 0; i < 128; ++i) b.ql[i] = static_cast<uint8_t>(i * 37 + 11);
  for (int i = 0; i < 64; ++i) b.qh[i] = static_cast<uint8_t>(i * 53 + 5);
  std::vector<float> y(256);
  dequantize_row(TensorType::Q6_K, &b, y.data(), 256);
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, k = e % 128, quarter = k / 32, l = k % 32;
    const uint8_t low_byte = b.ql[64 * h + 32 * (quarter % 2) + l];
    const int low = quarter < 2 ? low_byte & 15 : low_byte >> 4;
    const int high = (b.qh[32 * h + l] >> (2 * quarter)) & 3;
    const int q = (low | (high << 4)) - 32;
    const float expected = 0.125f * static_cast<float>(b.scales[e / 16]) * static_cast<float>(q);
    ASSERT_EQ(y[e], expected) << "element " << e;
  }
}

struct ErrorCase {
  TensorType type;
  double max_rms;  // root-mean-square error in units of the data's standard deviation
};

class KquantRoundTrip : public ::testing::TestWithParam<ErrorCase> {};

// Normal data: the error shrinks with the bits (about step / √12 with step = range / levels).
TEST_P(KquantRoundTrip, ErrorIsWithinTheTypesResolution) {
  const auto [type, max_rms] = GetParam();
  for (float sigma : {1.0f, 1e-3f, 200.0f}) {
    const auto x = normal_row(256 * 8, 11, sigma);
    const auto y = round_trip(type, x);
    double sq = 0, worst = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const double e = std::fabs(static_cast<double>(y[i]) - x[i]);
      sq += e * e;
      worst = std::max(worst, e);
    }
    const double rms = std::sqrt(sq / static_cast<double>(x.size())) / sigma;
    EXPECT_LE(rms, max_rms) << type_name(type) << " sigma " << sigma;
    EXPECT_LE(worst / sigma, 8 * max_rms) << type_name(type) << " sigma " << sigma;
  }
}

INSTANTIATE_TEST_SUITE_P(Types, KquantRoundTrip,
                         ::testing::Values(ErrorCase{TensorType::Q4_K, 0.12},
                                           ErrorCase{TensorType::Q5_K, 0.06},
                                           ErrorCase{TensorType::Q6_K, 0.03},
                                           ErrorCase{TensorType::BF16, 0.003}));

TEST(KquantRoundTrip, MoreBitsMeanLessError) {
  const auto x = normal_row(256 * 16, 5);
  auto rms = [&](TensorType t) {
    const auto y = round_trip(t, x);
    double sq = 0;
    for (size_t i = 0; i < x.size(); ++i) sq += (y[i] - x[i]) * (y[i] - x[i]);
    return std::sqrt(sq / static_cast<double>(x.size()));
  };
  const double q4 = rms(TensorType::Q4_K), q5 = rms(TensorType::Q5_K), q6 = rms(TensorType::Q6_K);
  EXPECT_LT(q5, 0.6 * q4);
  EXPECT_LT(q6, 0.6 * q5);
  // Better than the 32-value formats of the same width would need to be to beat them.
  EXPECT_LT(q4, rms(TensorType::Q4_0));
}

// Blocks that stress the fit: constants (positive, negative, zero), one outlier, only
// positive values (the min is held at 0), and values over several magnitudes.
TEST(KquantRoundTrip, HandlesDegenerateBlocks) {
  for (TensorType type : {TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K}) {
    SCOPED_TRACE(std::string(type_name(type)));
    for (float c : {0.0f, 1.5f, -3.0f}) {
      const std::vector<float> x(256, c);
      for (float v : round_trip(type, x)) ASSERT_NEAR(v, c, std::fabs(c) * 0.02f + 1e-6f);
    }
    std::vector<float> spike(256, 0.0f);
    spike[77] = 100.0f;
    const auto y = round_trip(type, spike);
    EXPECT_NEAR(y[77], 100.0f, 2.0f);
    for (int i = 0; i < 256; ++i) {
      if (i != 77) ASSERT_NEAR(y[i], 0.0f, 1e-3f) << i;
    }
    auto positive = normal_row(256, 3);
    for (auto& v : positive) v = std::fabs(v) + 2.0f;
    const auto yp = round_trip(type, positive);
    for (int i = 0; i < 256; ++i) ASSERT_NEAR(yp[i], positive[i], 0.2f) << i;
  }
}

// NaN and infinity must not crash the encoder (no undefined float-to-int conversion).
TEST(KquantRoundTrip, NonFiniteInputsDoNotCrash) {
  auto x = normal_row(512, 9);
  x[3] = std::numeric_limits<float>::quiet_NaN();
  x[300] = std::numeric_limits<float>::infinity();
  for (TensorType type : {TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K}) {
    const auto y = round_trip(type, x);
    EXPECT_EQ(y.size(), x.size());
  }
}

TEST(Bf16, ConvertsExactlyAndRoundsToNearestEven) {
  for (float f : {0.0f, -0.0f, 1.0f, -2.5f, 3.0e38f, 1.0e-38f}) {
    const float back = bf16_to_fp32(fp32_to_bf16(f));
    EXPECT_NEAR(back, f, std::fabs(f) / 128) << f;
  }
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(fp32_to_bf16(-2.0f), 0xc000);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1).
  EXPECT_EQ(fp32_to_bf16(1.0f + 1.0f / 256), 0x3f80);
  EXPECT_EQ(fp32_to_bf16(1.0f + 3.0f / 256), 0x3f82);
  EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  // Every bf16 survives the trip through float.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = bf16_to_fp32(static_cast<uint16_t>(h));
    if (!std::isnan(f)) ASSERT_EQ(fp32_to_bf16(f), h) << std::hex << h;
  }
}

}  // namespace
}  // namespace llmops::engine
