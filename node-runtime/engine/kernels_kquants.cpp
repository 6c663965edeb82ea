// K-quant and BF16 weights: the scalar reference (each weight row decoded to floats, then
// dotted with float inputs in element order) and the input quantization the SIMD
// variants share.
//
// Inputs for K-quant weights are quantized as for Q8_0 / Q4_0 (8 bits per value, a scale
// max |x| / 127 per 32 values: an outlier costs only its own 32 values precision, where
// llama.cpp's one scale per 256 spreads it over the super-block), plus the sum of each
// 16 quantized values, which lets the kernels apply Q4_K / Q5_K mins and Q6_K's −32
// offset per group without touching the values again.
#include <vector>

#include "kernels_variants.h"
#include "kquants.h"
#include "quant.h"

namespace llmops::engine::kernels {

void rows_kquants_scalar(const TensorView& w, const float* x, const QuantizedInputs&, int64_t n,
                         float* y, int64_t r0, int64_t r1) {
  const int64_t cols = w.cols;
  thread_local std::vector<float> row;
  row.resize(static_cast<size_t>(cols));
  for (int64_t r = r0; r < r1; ++r) {
    dequantize_row(w.type, w.row(r), row.data(), cols);
    for (int64_t i = 0; i < n; ++i) {
      const float* xi = x + i * cols;
      float sum = 0.0f;
      for (int64_t j = 0; j < cols; ++j) sum += row[static_cast<size_t>(j)] * xi[j];
      y[i * w.rows + r] = sum;
    }
  }
}

QuantizedInputs quantize_kquant_inputs(const float* x, int64_t n, int64_t cols) {
  thread_local std::vector<int8_t> quantized;
  thread_local std::vector<float> scales;
  thread_local std::vector<int16_t> sums;
  const size_t values = static_cast<size_t>(cols * n);
  quantized.resize(values);
  scales.resize(values / kQuantBlock);
  sums.resize(values / 16);
  // The inputs are contiguous, so the batch quantizes as one long row.
  quantize_scalar(x, cols * n, quantized.data(), scales.data());
  for (size_t g = 0; g < values / 16; ++g) {
    int sum = 0;
    for (size_t j = 0; j < 16; ++j) sum += quantized[g * 16 + j];
    sums[g] = static_cast<int16_t>(sum);
  }
  QuantizedInputs xq;
  xq.qs = quantized.data();
  xq.d = scales.data();
  xq.sums = sums.data();
  return xq;
}

}  // namespace llmops::engine::kernels
