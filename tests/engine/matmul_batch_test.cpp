// matmul over a batch of inputs (the matrix-matrix kernels of prefill and batched decode)
// for every kernel variant: close to the scalar reference, and for each input
// bit-identical to the matrix-vector product of that input alone, at sizes that leave
// ragged row and input tiles.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/kernels.h"
#include "engine/kernels_variants.h"
#include "engine/quant.h"
#include "engine/thread_pool.h"
#include "kernel_variants.h"
#include "matmul_checks.h"

namespace llmops::engine {
namespace {

using matmul_checks::Shape;
using matmul_checks::shape_name;

struct Matrix {
  std::vector<uint8_t> bytes;
  TensorView view;
};

Matrix random_matrix(TensorType type, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  Matrix m;
  std::vector<float> row(cols);
  m.bytes.resize(row_bytes(type, cols) * rows);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : row) v = dist(rng);
    if (r % 5 == 4) std::fill(row.begin(), row.begin() + std::min<int64_t>(cols, 32), 0.0f);
    quantize_row(type, row.data(), m.bytes.data() + r * row_bytes(type, cols), cols);
  }
  m.view = TensorView{"w", type, rows, cols, m.bytes.data()};
  return m;
}

std::vector<float> random_inputs(int64_t n, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(n * cols);
  for (auto& v : x) v = dist(rng);
  // A block of zeros and one of large values: scales of 0 and far from 1.
  if (cols >= 64) {
    std::fill(x.begin(), x.begin() + 32, 0.0f);
    for (int64_t j = 32; j < 64; ++j) x[j] *= 1000.0f;
  }
  return x;
}

class MatmulBatch : public ::testing::TestWithParam<Shape> {};

// Every variant, n = 1..9, against the exact product in double of the weights as
// decoded and against the scalar variant: fp32 error for float inputs, the 8-bit
// inputs' error for integer paths.
TEST_P(MatmulBatch, EveryVariantMatchesTheReference) {
  const Shape s = GetParam();
  const Matrix w = random_matrix(s.type, s.rows, s.cols, 11);
  std::vector<float> dense(s.rows * s.cols);
  for (int64_t r = 0; r < s.rows; ++r) {
    dequantize_row(s.type, w.view.row(r), dense.data() + r * s.cols, s.cols);
  }
  for (int64_t n = 1; n <= 9; ++n) {
    const auto x = random_inputs(n, s.cols, 100 + static_cast<uint32_t>(n));
    matmul_checks::expect_variants_match_reference(w.view, dense, x, n, [&](KernelVariant v) {
      return v != KernelVariant::Scalar && is_quantized(s.type) ? 2e-2 : 1e-5;
    });
  }
}

// Within a variant, each input's outputs are the same bits whether it runs alone
// (matrix-vector), in a batch of any size, or on several threads.
TEST_P(MatmulBatch, EachInputIsBitIdenticalToItsMatrixVectorProduct) {
  const Shape s = GetParam();
  const Matrix w = random_matrix(s.type, s.rows, s.cols, 21);
  matmul_checks::expect_batches_bit_identical(w.view, random_inputs(9, s.cols, 23), 9);
}

// Rows not a multiple of any tile (1..13, 37), blocks odd and even, F32 / F16 columns
// that leave a partial SIMD chunk.
INSTANTIATE_TEST_SUITE_P(
    Shapes, MatmulBatch,
    ::testing::Values(Shape{TensorType::F32, 1, 1}, Shape{TensorType::F32, 13, 17},
                      Shape{TensorType::F32, 37, 172}, Shape{TensorType::F32, 9, 64},
                      Shape{TensorType::F16, 5, 9}, Shape{TensorType::F16, 37, 172},
                      Shape{TensorType::F16, 11, 96}, Shape{TensorType::Q8_0, 1, 32},
                      Shape{TensorType::Q8_0, 7, 64}, Shape{TensorType::Q8_0, 37, 96},
                      Shape{TensorType::Q8_0, 13, 160}, Shape{TensorType::Q8_0, 19, 2112},
                      Shape{TensorType::Q4_0, 1, 32}, Shape{TensorType::Q4_0, 6, 64},
                      Shape{TensorType::Q4_0, 37, 96}, Shape{TensorType::Q4_0, 13, 160},
                      Shape{TensorType::Q4_0, 19, 2112}),
    shape_name);

// Q, K and V in one pass: each output the same bits as its own matmul, on every variant.
TEST(MatmulMany, EqualsOneMatmulPerMatrix) {
  for (TensorType type : {TensorType::F32, TensorType::F16, TensorType::Q8_0, TensorType::Q4_0}) {
    matmul_checks::expect_many_equals_one_by_one(
        random_matrix(type, 96, 128, 41).view, random_matrix(type, 33, 128, 42).view,
        random_matrix(type, 7, 128, 43).view, random_inputs(6, 128, 44), 6);
  }
}

TEST(MatmulMany, RefusesMatricesOfDifferentWidthsOrTypes) {
  const Matrix a = random_matrix(TensorType::Q8_0, 4, 64, 1);
  const Matrix b = random_matrix(TensorType::Q8_0, 4, 96, 2);
  const Matrix c = random_matrix(TensorType::Q4_0, 4, 64, 3);
  std::vector<float> x(96, 1.0f), y1(4), y2(4);
  float* ys[] = {y1.data(), y2.data()};
  const TensorView* widths[] = {&a.view, &b.view};
  EXPECT_THROW(matmul_many(widths, x.data(), 1, ys), std::invalid_argument);
  const TensorView* types[] = {&a.view, &c.view};
  EXPECT_THROW(matmul_many(types, x.data(), 1, ys), std::invalid_argument);
  const TensorView* one[] = {&a.view};
  EXPECT_THROW(matmul_many(one, x.data(), 1, ys), std::invalid_argument);  // 1 matrix, 2 outputs
}

// The SIMD quantizer rounds exactly as the scalar one: same bytes, same scales.
TEST(QuantizeInputs, SimdMatchesScalarBitForBit) {
  if (!kernel_variant_supported(KernelVariant::Avx2)) GTEST_SKIP() << "no AVX2 on this CPU";
  const int64_t cols = 32 * 7;
  auto x = random_inputs(1, cols, 31);
  x[70] = 0.5f;  // ties and exact multiples of the scale
  x[71] = -127.0f;
  x[72] = 127.0f;
  std::vector<int8_t> q_scalar(cols), q_simd(cols);
  std::vector<float> d_scalar(cols / 32), d_simd(cols / 32);
  kernels::quantize_scalar(x.data(), cols, q_scalar.data(), d_scalar.data());
  kernels::quantize_avx2(x.data(), cols, q_simd.data(), d_simd.data());
  EXPECT_EQ(q_scalar, q_simd);
  EXPECT_EQ(d_scalar, d_simd);
  EXPECT_EQ(d_scalar[0], 0.0f);  // the all-zero block
}

// Weight bytes at the ends of their ranges (Q8_0 −128 and 127, Q4_0 nibbles 0 and 15),
// which no quantizer of ours writes but a file may hold: the integer paths stay exact
// (no int8 or int16 overflow), so every variant stays within the inputs' 8-bit error of
// the reference, and batching still changes no bit.
TEST(MatmulBatch, ExtremeWeightBytesStayExact) {
  const int64_t rows = 11, cols = 96, n = 5;
  for (TensorType type : {TensorType::Q8_0, TensorType::Q4_0}) {
    Matrix m = random_matrix(type, rows, cols, 51);
    const size_t row_size = row_bytes(type, cols);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t b = 0; b < cols / 32; ++b) {
        uint8_t* block = m.bytes.data() + r * row_size + b * (type == TensorType::Q8_0 ? 34 : 18);
        const int values = type == TensorType::Q8_0 ? 32 : 16;
        for (int j = 0; j < values; ++j) {
          const bool low = (r + b + j) % 2 == 0;
          block[2 + j] = type == TensorType::Q8_0 ? (low ? 0x80 : 0x7f) : (low ? 0x00 : 0xff);
        }
      }
    }
    auto x = random_inputs(n, cols, 52);
    for (int64_t j = 0; j < cols; j += 3) x[j] = j % 2 ? 127.0f : -127.0f;  // full-scale int8s
    std::vector<float> scalar(n * rows);
    {
      VariantScope scope(KernelVariant::Scalar);
      matmul(m.view, x.data(), n, scalar.data());
    }
    for (KernelVariant v : supported_variants()) {
      SCOPED_TRACE(std::string(type_name(type)) + " " + std::string(kernel_variant_name(v)));
      VariantScope scope(v);
      std::vector<float> y(n * rows);
      matmul(m.view, x.data(), n, y.data());
      for (int64_t i = 0; i < n; ++i) {
        std::vector<float> alone(rows);
        matmul(m.view, x.data() + i * cols, 1, alone.data());
        for (int64_t r = 0; r < rows; ++r) {
          double magnitude = 0;
          std::vector<float> w(cols);
          dequantize_row(type, m.view.row(r), w.data(), cols);
          for (int64_t j = 0; j < cols; ++j) magnitude += std::fabs(w[j] * x[i * cols + j]);
          ASSERT_NEAR(y[i * rows + r], scalar[i * rows + r], 2e-2 * magnitude + 1e-5)
              << "row " << r << " input " << i;
          ASSERT_EQ(std::memcmp(&y[i * rows + r], &alone[r], sizeof(float)), 0)
              << "row " << r << " input " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace llmops::engine
