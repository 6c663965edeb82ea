// The checks every weight type's matmul passes on every kernel variant this CPU runs,
// shared by matmul_batch_test.cpp (F32, F16, Q8_0, Q4_0) and kquant_kernels_test.cpp
// (Q4_K, Q5_K, Q6_K, BF16); each file makes its own matrices and inputs.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "engine/kernels.h"
#include "engine/kernels_variants.h"
#include "engine/quant.h"
#include "engine/thread_pool.h"
#include "kernel_variants.h"

namespace llmops::engine::matmul_checks {

struct Shape {
  TensorType type;
  int64_t rows, cols;
};

inline std::string shape_name(const ::testing::TestParamInfo<Shape>& info) {
  const Shape& s = info.param;
  return std::string(type_name(s.type)) + "_" + std::to_string(s.rows) + "x" +
         std::to_string(s.cols);
}

// n inputs (`x`, n x cols) through `w` on every variant: each output within `relative` x
// the sum of |products| (+1e-5) of the exact product in double of `dense` (the weights as
// decoded), and within that plus 1e-5 x magnitude of the scalar variant's output.
// `relative_for(variant)` says how close a variant must be: fp32 error, or the 8-bit
// inputs' error for the integer paths.
template <typename RelativeFor>
void expect_variants_match_reference(const TensorView& w, const std::vector<float>& dense,
                                     const std::vector<float>& x, int64_t n,
                                     RelativeFor relative_for) {
  const int64_t rows = w.rows, cols = w.cols;
  std::vector<float> scalar(static_cast<size_t>(n * rows));
  {
    VariantScope scope(KernelVariant::Scalar);
    matmul(w, x.data(), n, scalar.data());
  }
  for (KernelVariant v : supported_variants()) {
    SCOPED_TRACE(std::string(kernel_variant_name(v)) + " n=" + std::to_string(n));
    VariantScope scope(v);
    std::vector<float> y(static_cast<size_t>(n * rows));
    matmul(w, x.data(), n, y.data());
    const double relative = relative_for(v);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t r = 0; r < rows; ++r) {
        double exact = 0, magnitude = 0;
        for (int64_t j = 0; j < cols; ++j) {
          const double p = static_cast<double>(dense[r * cols + j]) * x[i * cols + j];
          exact += p;
          magnitude += std::fabs(p);
        }
        const double tolerance = relative * magnitude + 1e-5;
        const float got = y[i * rows + r];
        ASSERT_NEAR(got, exact, tolerance) << "row " << r << " input " << i;
        // and the scalar variant (itself within 1e-5 of exact)
        ASSERT_NEAR(got, scalar[i * rows + r], tolerance + 1e-5 * magnitude)
            << "against scalar, row " << r << " input " << i;
      }
    }
  }
}

// Within a variant, each input's outputs are the same bits whether it runs alone
// (matrix-vector), in a batch of any size up to max_n, or on several threads.
inline void expect_batches_bit_identical(const TensorView& w, const std::vector<float>& x,
                                         int64_t max_n) {
  const int64_t rows = w.rows, cols = w.cols;
  ThreadPool pool(3);
  for (KernelVariant v : supported_variants()) {
    SCOPED_TRACE(std::string(kernel_variant_name(v)));
    VariantScope scope(v);
    std::vector<float> alone(static_cast<size_t>(max_n * rows));
    for (int64_t i = 0; i < max_n; ++i) {
      matmul(w, x.data() + i * cols, 1, alone.data() + i * rows);
    }
    for (int64_t n = 1; n <= max_n; ++n) {
      SCOPED_TRACE("n=" + std::to_string(n));
      std::vector<float> batched(static_cast<size_t>(n * rows));
      std::vector<float> threaded(static_cast<size_t>(n * rows));
      matmul(w, x.data(), n, batched.data());
      matmul(w, x.data(), n, threaded.data(), &pool);
      for (int64_t i = 0; i < n * rows; ++i) {
        ASSERT_EQ(std::memcmp(&batched[i], &alone[i], sizeof(float)), 0)
            << "row " << i % rows << " input " << i / rows << ": " << batched[i] << " vs "
            << alone[i];
        ASSERT_EQ(std::memcmp(&threaded[i], &alone[i], sizeof(float)), 0)
            << "threaded, row " << i % rows << " input " << i / rows;
      }
    }
  }
}

// Three matrices of one type in one pass (Q, K and V): each output the same bits as its
// own matmul, on every variant.
inline void expect_many_equals_one_by_one(const TensorView& a, const TensorView& b,
                                          const TensorView& c, const std::vector<float>& x,
                                          int64_t n) {
  ThreadPool pool(2);
  for (KernelVariant v : supported_variants()) {
    SCOPED_TRACE(std::string(type_name(a.type)) + " " + std::string(kernel_variant_name(v)));
    VariantScope scope(v);
    std::vector<float> ya(static_cast<size_t>(n * a.rows)), yb(static_cast<size_t>(n * b.rows)),
        yc(static_cast<size_t>(n * c.rows));
    const TensorView* ws[] = {&a, &b, &c};
    float* ys[] = {ya.data(), yb.data(), yc.data()};
    matmul_many(ws, x.data(), n, ys, &pool);
    for (const auto& [m, got] : {std::pair{&a, &ya}, std::pair{&b, &yb}, std::pair{&c, &yc}}) {
      std::vector<float> want(got->size());
      matmul(*m, x.data(), n, want.data());
      EXPECT_EQ(*got, want) << m->rows << " rows";
    }
  }
}

}  // namespace llmops::engine::matmul_checks
