// matmul with K-quant and BF16 weights on every kernel variant this CPU runs: close to
// the exact product of the decoded weights and to the scalar reference, and each input's
// outputs bit-identical whether it runs alone, in a batch of any size or on several
// threads (as matmul_batch_test.cpp checks for the other types).
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
  std::vector<float> dense;  // as decoded
  TensorView view;
};

Matrix random_matrix(TensorType type, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  Matrix m;
  std::vector<float> row(static_cast<size_t>(cols));
  const size_t rb = row_bytes(type, cols);
  m.bytes.resize(rb * static_cast<size_t>(rows));
  m.dense.resize(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : row) v = dist(rng);
    // Some rows with an all-zero sub-block and a far larger one: scales of 0 and far from 1.
    if (r % 5 == 4 && cols >= 64) {
      std::fill(row.begin(), row.begin() + 32, 0.0f);
      for (int j = 32; j < 64; ++j) row[static_cast<size_t>(j)] *= 50.0f;
    }
    quantize_row(type, row.data(), m.bytes.data() + rb * static_cast<size_t>(r), cols);
    dequantize_row(type, m.bytes.data() + rb * static_cast<size_t>(r), m.dense.data() + r * cols,
                   cols);
  }
  m.view = TensorView{"w", type, rows, cols, m.bytes.data()};
  return m;
}

std::vector<float> random_inputs(int64_t n, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n * cols));
  for (auto& v : x) v = dist(rng);
  // A zero group and one of large values: input scales of 0 and far from 1.
  if (cols >= 512) {
    std::fill(x.begin() + 256, x.begin() + 512, 0.0f);
    for (int64_t j = 0; j < 16; ++j) x[static_cast<size_t>(j)] *= 100.0f;
  }
  return x;
}

class KquantMatmul : public ::testing::TestWithParam<Shape> {};

// Against the exact product in double of the decoded weights: fp32 error for the scalar
// variant and BF16, the 8-bit inputs' error for the SIMD K-quant paths; and against scalar.
TEST_P(KquantMatmul, EveryVariantMatchesTheReference) {
  const Shape s = GetParam();
  const Matrix w = random_matrix(s.type, s.rows, s.cols, 11);
  for (int64_t n : {1, 2, 5}) {
    const auto x = random_inputs(n, s.cols, 100 + static_cast<uint32_t>(n));
    matmul_checks::expect_variants_match_reference(w.view, w.dense, x, n, [&](KernelVariant v) {
      return v != KernelVariant::Scalar && is_kquant(s.type) ? 1e-2 : 1e-5;
    });
  }
}

// Within a variant, each input's outputs are the same bits alone, batched or threaded.
TEST_P(KquantMatmul, EachInputIsBitIdenticalToItsMatrixVectorProduct) {
  const Shape s = GetParam();
  const Matrix w = random_matrix(s.type, s.rows, s.cols, 21);
  matmul_checks::expect_batches_bit_identical(w.view, random_inputs(9, s.cols, 23), 9);
}

// Rows not a multiple of any tile (1..13, 37, 130), one and several super-blocks;
// BF16 columns that leave a partial SIMD chunk.
INSTANTIATE_TEST_SUITE_P(
    Shapes, KquantMatmul,
    ::testing::Values(Shape{TensorType::Q4_K, 1, 256}, Shape{TensorType::Q4_K, 13, 512},
                      Shape{TensorType::Q4_K, 37, 768}, Shape{TensorType::Q5_K, 1, 256},
                      Shape{TensorType::Q5_K, 7, 512}, Shape{TensorType::Q5_K, 37, 768},
                      Shape{TensorType::Q6_K, 1, 256}, Shape{TensorType::Q6_K, 11, 512},
                      Shape{TensorType::Q6_K, 130, 1024}, Shape{TensorType::BF16, 1, 1},
                      Shape{TensorType::BF16, 5, 9}, Shape{TensorType::BF16, 37, 172},
                      Shape{TensorType::BF16, 13, 512}),
    shape_name);

// Q, K and V of one K type in one pass: each output the same bits as its own matmul.
TEST(KquantMatmulMany, EqualsOneMatmulPerMatrix) {
  for (TensorType type : {TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K, TensorType::BF16}) {
    matmul_checks::expect_many_equals_one_by_one(
        random_matrix(type, 96, 512, 41).view, random_matrix(type, 33, 512, 42).view,
        random_matrix(type, 7, 512, 43).view, random_inputs(6, 512, 44), 6);
  }
}

// Embedding rows of K-quant and BF16 tables decode as dequantize_row does.
TEST(KquantGetRow, DecodesTheRow) {
  for (TensorType type : {TensorType::Q4_K, TensorType::Q6_K, TensorType::BF16}) {
    const Matrix m = random_matrix(type, 4, 256, 5);
    std::vector<float> row(256);
    get_row(m.view, 2, row.data());
    EXPECT_EQ(0, std::memcmp(row.data(), m.dense.data() + 2 * 256, 256 * sizeof(float)));
  }
}

// The input quantizer: the same bytes as for Q8_0 / Q4_0 (32-value scales), and 16-sums.
TEST(KquantInputs, SumsMatchTheValues) {
  const int64_t cols = 512, n = 3;
  auto x = random_inputs(n, cols, 9);
  x[5] = 0.5f;
  std::vector<int8_t> qs(n * cols);
  std::vector<float> d(n * cols / 32);
  kernels::quantize_scalar(x.data(), n * cols, qs.data(), d.data());
  const kernels::QuantizedInputs xq = kernels::quantize_kquant_inputs(x.data(), n, cols);
  EXPECT_EQ(0, std::memcmp(xq.qs, qs.data(), qs.size()));
  EXPECT_EQ(0, std::memcmp(xq.d, d.data(), d.size() * sizeof(float)));
  for (int64_t g = 0; g < n * cols / 16; ++g) {
    int sum = 0;
    for (int j = 0; j < 16; ++j) sum += qs[g * 16 + j];
    ASSERT_EQ(xq.sums[g], sum) << g;
  }
  EXPECT_EQ(xq.d[8], 0.0f);  // the zero chunks of input 0
}

}  // namespace
}  // namespace llmops::engine
