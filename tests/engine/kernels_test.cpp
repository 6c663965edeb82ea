#include "engine/kernels.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "engine/quant.h"

namespace llmops::engine {
namespace {

// Every type's matmul equals the fp32 product of its dequantized weights.
class MatmulMatchesDequantizedReference : public ::testing::TestWithParam<TensorType> {};

TEST_P(MatmulMatchesDequantizedReference, ForSeveralInputs) {
  const TensorType type = GetParam();
  const int rows = 5, cols = 96, n = 3;
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> w(rows * cols), x(n * cols);
  for (auto& v : w) v = dist(rng);
  for (auto& v : x) v = dist(rng);
  std::vector<uint8_t> bytes(row_bytes(type, cols) * rows);
  for (int r = 0; r < rows; ++r) {
    quantize_row(type, w.data() + r * cols, bytes.data() + r * row_bytes(type, cols), cols);
  }
  TensorView view{"w", type, rows, cols, bytes.data()};
  std::vector<float> y(n * rows);
  matmul(view, x.data(), n, y.data());
  for (int r = 0; r < rows; ++r) {
    std::vector<float> row(cols);
    get_row(view, r, row.data());
    for (int i = 0; i < n; ++i) {
      double ref = 0;
      for (int j = 0; j < cols; ++j) ref += static_cast<double>(row[j]) * x[i * cols + j];
      EXPECT_NEAR(y[i * rows + r], ref, 1e-4) << "row " << r << " input " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, MatmulMatchesDequantizedReference,
                         ::testing::Values(TensorType::F32, TensorType::F16, TensorType::Q8_0,
                                           TensorType::Q4_0));

TEST(GetRow, RejectsRowsOutOfRange) {
  std::vector<float> w(8, 1.0f);
  TensorView view{"token_embd.weight", TensorType::F32, 2, 4, w.data()};
  std::vector<float> out(4);
  EXPECT_THROW(get_row(view, 2, out.data()), std::out_of_range);
  EXPECT_THROW(get_row(view, -1, out.data()), std::out_of_range);
}

}  // namespace
}  // namespace llmops::engine
