#include "kernels.h"

#include <stdexcept>
#include <string>

#include "quant.h"

namespace llmops::engine {

namespace {

float dot_f32(const float* w, const float* x, int64_t n) {
  float sum = 0.0f;
  for (int64_t j = 0; j < n; ++j) sum += w[j] * x[j];
  return sum;
}

float dot_f16(const uint16_t* w, const float* x, int64_t n) {
  float sum = 0.0f;
  for (int64_t j = 0; j < n; ++j) sum += fp16_to_fp32(w[j]) * x[j];
  return sum;
}

float dot_q8_0(const BlockQ8_0* w, const float* x, int64_t n) {
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    float block = 0.0f;
    for (int j = 0; j < kQuantBlock; ++j) block += static_cast<float>(w[b].qs[j]) * xb[j];
    sum += fp16_to_fp32(w[b].d) * block;
  }
  return sum;
}

float dot_q4_0(const BlockQ4_0* w, const float* x, int64_t n) {
  constexpr int kHalf = kQuantBlock / 2;
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    float block = 0.0f;
    for (int j = 0; j < kHalf; ++j) {
      block += static_cast<float>((w[b].qs[j] & 0x0f) - 8) * xb[j];
      block += static_cast<float>((w[b].qs[j] >> 4) - 8) * xb[j + kHalf];
    }
    sum += fp16_to_fp32(w[b].d) * block;
  }
  return sum;
}

}  // namespace

void matmul(const TensorView& w, const float* x, int64_t n, float* y) {
  const int64_t cols = w.cols;
  // Row-outer: each weight row is read from memory once and reused, from cache, for
  // all n inputs (what makes batching cheap). Each dot product is the same computation
  // whatever n is, so batching never changes results.
  for (int64_t r = 0; r < w.rows; ++r) {
    const void* row = w.row(r);
    for (int64_t i = 0; i < n; ++i) {
      const float* xi = x + i * cols;
      float& out = y[i * w.rows + r];
      switch (w.type) {
        case TensorType::F32:
          out = dot_f32(static_cast<const float*>(row), xi, cols);
          break;
        case TensorType::F16:
          out = dot_f16(static_cast<const uint16_t*>(row), xi, cols);
          break;
        case TensorType::Q8_0:
          out = dot_q8_0(static_cast<const BlockQ8_0*>(row), xi, cols);
          break;
        case TensorType::Q4_0:
          out = dot_q4_0(static_cast<const BlockQ4_0*>(row), xi, cols);
          break;
        default:
          throw std::invalid_argument("matmul: tensor " + w.name + " has an unsupported type");
      }
    }
  }
}

void get_row(const TensorView& w, int64_t r, float* out) {
  if (r < 0 || r >= w.rows) {
    throw std::out_of_range("row " + std::to_string(r) + " out of range for tensor " + w.name +
                            " with " + std::to_string(w.rows) + " rows");
  }
  dequantize_row(w.type, w.row(r), out, w.cols);
}

}  // namespace llmops::engine
