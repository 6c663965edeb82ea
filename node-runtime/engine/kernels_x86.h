// Internal to the x86 kernel variants: the parts AVX2 and AVX-512 share, as templates
// over the 8-bit dot product each variant has (maddubs or vpdpbusd). Everything here has
// internal linkage on purpose: each variant's file compiles its own copy for its own
// instruction set, so no AVX-512 code can be picked by the linker for the AVX2 path.
#pragma once

#include <immintrin.h>

#include "kernels_variants.h"
#include "quant.h"

namespace llmops::engine::kernels {
namespace {

inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// 32 nibbles → 32 signed bytes (value − 8), low nibbles first as in ggml.
inline __m256i unpack_q4(const uint8_t* qs) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i mask = _mm_set1_epi8(0x0f);
  const __m128i lo = _mm_and_si128(packed, mask);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(packed, 4), mask);
  return _mm256_sub_epi8(_mm256_set_m128i(hi, lo), _mm256_set1_epi8(8));
}

// Blocks of 32 weights against 32 8-bit inputs: exact int32 sums, scaled in float, in
// block order.
template <__m256i (*DotI8)(__m256i, __m256i)>
float dot_q8_0(const BlockQ8_0* w, const BlockQ8x* x, int64_t blocks) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    const __m256i wq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].qs));
    const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
    const __m256 d = _mm256_set1_ps(fp16_to_fp32(w[b].d) * x[b].d);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(DotI8(wq, xq)), d, acc);
  }
  return hsum256(acc);
}

template <__m256i (*DotI8)(__m256i, __m256i)>
float dot_q4_0(const BlockQ4_0* w, const BlockQ8x* x, int64_t blocks) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    const __m256i wq = unpack_q4(w[b].qs);
    const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
    const __m256 d = _mm256_set1_ps(fp16_to_fp32(w[b].d) * x[b].d);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(DotI8(wq, xq)), d, acc);
  }
  return hsum256(acc);
}

// The row loop every variant shares: each output is one dot product, whatever n.
template <float (*DotF32)(const float*, const float*, int64_t),
          float (*DotF16)(const uint16_t*, const float*, int64_t),
          __m256i (*DotI8)(__m256i, __m256i)>
void rows(const TensorView& w, const float* x, const BlockQ8x* xq, int64_t n, float* y, int64_t r0,
          int64_t r1) {
  const int64_t cols = w.cols;
  const int64_t blocks = cols / kQuantBlock;
  for (int64_t r = r0; r < r1; ++r) {
    const void* row = w.row(r);
    for (int64_t i = 0; i < n; ++i) {
      float& out = y[i * w.rows + r];
      switch (w.type) {
        case TensorType::F32:
          out = DotF32(static_cast<const float*>(row), x + i * cols, cols);
          break;
        case TensorType::F16:
          out = DotF16(static_cast<const uint16_t*>(row), x + i * cols, cols);
          break;
        case TensorType::Q8_0:
          out = dot_q8_0<DotI8>(static_cast<const BlockQ8_0*>(row), xq + i * blocks, blocks);
          break;
        case TensorType::Q4_0:
          out = dot_q4_0<DotI8>(static_cast<const BlockQ4_0*>(row), xq + i * blocks, blocks);
          break;
      }
    }
  }
}

}  // namespace
}  // namespace llmops::engine::kernels
