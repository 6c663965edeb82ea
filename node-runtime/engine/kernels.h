// The compute kernels the forward pass calls: matrix products against weights in any
// supported type, and row lookup. Scalar reference code for now; SIMD variants and
// threading plug in behind these same functions.
#pragma once

#include <cstdint>

#include "tensor.h"

namespace llmops::engine {

// y[i][r] = dot(w.row(r), x[i]) for n input vectors x (each w.cols floats) and outputs
// y (each w.rows floats). Accumulates in fp32, in element order.
void matmul(const TensorView& w, const float* x, int64_t n, float* y);

// Decodes row `r` of `w` (e.g. a token embedding) into `out` (w.cols floats).
void get_row(const TensorView& w, int64_t r, float* out);

}  // namespace llmops::engine
