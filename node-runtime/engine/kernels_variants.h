// Internal: the per-variant row kernels behind matmul (kernels.cpp). Each variant lives
// in its own file compiled for its instruction set.
#pragma once

#include <cstdint>

#include "tensor.h"

namespace llmops::engine::kernels {

// Inputs quantized for integer dot products with Q8_0 / Q4_0 weights: per 32 values, a
// float scale (max |x| / 127) and the rounded int8 values.
struct BlockQ8x {
  float d;
  int8_t qs[32];
};
void quantize_activations(const float* x, int64_t n, BlockQ8x* out);

// Computes y[i * w.rows + r] for r in [r0, r1) and every input i < n. `xq` holds the n
// inputs quantized (cols / 32 blocks each) when w is Q8_0 or Q4_0, else it is null.
using RowsKernel = void (*)(const TensorView& w, const float* x, const BlockQ8x* xq, int64_t n,
                            float* y, int64_t r0, int64_t r1);

void rows_scalar(const TensorView& w, const float* x, const BlockQ8x* xq, int64_t n, float* y,
                 int64_t r0, int64_t r1);
void rows_avx2(const TensorView& w, const float* x, const BlockQ8x* xq, int64_t n, float* y,
               int64_t r0, int64_t r1);
void rows_avx512(const TensorView& w, const float* x, const BlockQ8x* xq, int64_t n, float* y,
                 int64_t r0, int64_t r1);

}  // namespace llmops::engine::kernels
