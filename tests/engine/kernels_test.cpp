#include "engine/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "engine/quant.h"
#include "engine/thread_pool.h"
#include "kernel_variants.h"

namespace llmops::engine {
namespace {

struct Weights {
  std::vector<float> dense;  // rows x cols, as quantized and back
  std::vector<uint8_t> bytes;
  TensorView view;
};

Weights make_weights(TensorType type, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  Weights w;
  std::vector<float> raw(rows * cols);
  for (auto& v : raw) v = dist(rng);
  w.bytes.resize(row_bytes(type, cols) * rows);
  w.dense.resize(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* row = w.bytes.data() + r * row_bytes(type, cols);
    quantize_row(type, raw.data() + r * cols, row, cols);
    dequantize_row(type, row, w.dense.data() + r * cols, cols);
  }
  w.view = TensorView{"w", type, rows, cols, w.bytes.data()};
  return w;
}

std::vector<float> random_inputs(int64_t n, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(n * cols);
  for (auto& v : x) v = dist(rng);
  return x;
}

struct Shape {
  TensorType type;
  int64_t rows, cols;
};

class KernelVariants : public ::testing::TestWithParam<Shape> {};

// Every variant against the exact product of the dequantized weights; quantized types
// allow for the 8-bit inputs of the SIMD variants.
TEST_P(KernelVariants, MatchTheReferenceOnRandomData) {
  const Shape s = GetParam();
  const Weights w = make_weights(s.type, s.rows, s.cols, 3);
  const int64_t n = 3;
  const auto x = random_inputs(n, s.cols, 5);
  for (KernelVariant v : supported_variants()) {
    SCOPED_TRACE(std::string(kernel_variant_name(v)));
    VariantScope scope(v);
    std::vector<float> y(n * s.rows);
    matmul(w.view, x.data(), n, y.data());
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t r = 0; r < s.rows; ++r) {
        double exact = 0, magnitude = 0;
        for (int64_t j = 0; j < s.cols; ++j) {
          const double p = static_cast<double>(w.dense[r * s.cols + j]) * x[i * s.cols + j];
          exact += p;
          magnitude += std::fabs(p);
        }
        const bool quantized_inputs = v != KernelVariant::Scalar && is_quantized(s.type);
        const double tolerance = (quantized_inputs ? 2e-2 : 1e-5) * magnitude + 1e-5;
        ASSERT_NEAR(y[i * s.rows + r], exact, tolerance) << "row " << r << " input " << i;
      }
    }
  }
}

// Batching and threading never change an output: bit-identical to one input, one thread.
TEST_P(KernelVariants, BatchAndThreadsAreBitIdentical) {
  const Shape s = GetParam();
  const Weights w = make_weights(s.type, s.rows, s.cols, 7);
  const int64_t n = 5;
  const auto x = random_inputs(n, s.cols, 9);
  ThreadPool pool(3);
  for (KernelVariant v : supported_variants()) {
    SCOPED_TRACE(std::string(kernel_variant_name(v)));
    VariantScope scope(v);
    std::vector<float> batched(n * s.rows), threaded(n * s.rows);
    matmul(w.view, x.data(), n, batched.data());
    matmul(w.view, x.data(), n, threaded.data(), &pool);
    EXPECT_EQ(batched, threaded);
    for (int64_t i = 0; i < n; ++i) {
      std::vector<float> alone(s.rows);
      matmul(w.view, x.data() + i * s.cols, 1, alone.data(), &pool);
      for (int64_t r = 0; r < s.rows; ++r) {
        ASSERT_EQ(alone[r], batched[i * s.rows + r]) << "row " << r << " input " << i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, KernelVariants,
    ::testing::Values(Shape{TensorType::F32, 7, 1}, Shape{TensorType::F32, 5, 17},
                      Shape{TensorType::F32, 33, 172}, Shape{TensorType::F32, 64, 768},
                      Shape{TensorType::F16, 3, 9}, Shape{TensorType::F16, 33, 172},
                      Shape{TensorType::F16, 64, 768}, Shape{TensorType::Q8_0, 1, 32},
                      Shape{TensorType::Q8_0, 37, 96}, Shape{TensorType::Q8_0, 130, 768},
                      Shape{TensorType::Q4_0, 1, 32}, Shape{TensorType::Q4_0, 37, 96},
                      Shape{TensorType::Q4_0, 130, 768}));

TEST(KernelVariants, NamesParseAndUnsupportedAreRefused) {
  EXPECT_EQ(parse_kernel_variant("avx2"), KernelVariant::Avx2);
  EXPECT_THROW(parse_kernel_variant("neon"), std::invalid_argument);
  EXPECT_TRUE(kernel_variant_supported(KernelVariant::Scalar));
  for (auto v : {KernelVariant::Avx2, KernelVariant::Avx512}) {
    if (!kernel_variant_supported(v)) EXPECT_THROW(set_kernel_variant(v), std::invalid_argument);
  }
}

TEST(GetRow, RejectsRowsOutOfRange) {
  std::vector<float> w(8, 1.0f);
  TensorView view{"token_embd.weight", TensorType::F32, 2, 4, w.data()};
  std::vector<float> out(4);
  EXPECT_THROW(get_row(view, 2, out.data()), std::out_of_range);
  EXPECT_THROW(get_row(view, -1, out.data()), std::out_of_range);
}

TEST(ThreadPool, CoversTheRangeOnceAndRunsOnEveryThread) {
  ThreadPool pool(4);
  for (int64_t n : {0, 1, 3, 4, 1000}) {
    std::vector<std::atomic<int>> hits(n);
    pool.parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) ++hits[i];
    });
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1);
  }
  std::vector<std::atomic<int>> seen(4);
  pool.on_each_thread([&](int t) { ++seen[t]; });
  for (auto& s : seen) EXPECT_EQ(s.load(), 1);
}

}  // namespace
}  // namespace llmops::engine
