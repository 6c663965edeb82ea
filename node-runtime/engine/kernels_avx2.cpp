// AVX2 + FMA + F16C row kernels. Q8_0 / Q4_0 weights meet 8-bit inputs in integer dot
// products (exact), scaled per block in float.
#include <immintrin.h>

#include "kernels_variants.h"
#include "quant.h"

namespace llmops::engine::kernels {

namespace {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

float dot_f32(const float* w, const float* x, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + j), _mm256_loadu_ps(x + j), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + j + 8), _mm256_loadu_ps(x + j + 8), a1);
  }
  for (; j + 8 <= n; j += 8)
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + j), _mm256_loadu_ps(x + j), a0);
  float sum = hsum(_mm256_add_ps(a0, a1));
  for (; j < n; ++j) sum += w[j] * x[j];
  return sum;
}

float dot_f16(const uint16_t* w, const float* x, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + j)));
    const __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + j + 8)));
    a0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + j), a0);
    a1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + j + 8), a1);
  }
  for (; j + 8 <= n; j += 8) {
    const __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + j)));
    a0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + j), a0);
  }
  float sum = hsum(_mm256_add_ps(a0, a1));
  for (; j < n; ++j) sum += fp16_to_fp32(w[j]) * x[j];
  return sum;
}

// Sum of w[j] * x[j] over 32 signed bytes as 8 int32 lanes: maddubs needs an unsigned
// operand, so multiply |w| by x carrying w's sign (exact: |w|·|x| ≤ 128·127 fits).
inline __m256i dot_i8(__m256i w, __m256i x) {
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
  return _mm256_madd_epi16(pairs, ones);
}

float dot_q8_0(const BlockQ8_0* w, const BlockQ8x* x, int64_t blocks) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    const __m256i wq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].qs));
    const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
    const __m256 d = _mm256_set1_ps(fp16_to_fp32(w[b].d) * x[b].d);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_i8(wq, xq)), d, acc);
  }
  return hsum(acc);
}

// 32 nibbles → 32 signed bytes (value − 8), low nibbles first as in ggml.
inline __m256i unpack_q4(const uint8_t* qs) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i mask = _mm_set1_epi8(0x0f);
  const __m128i lo = _mm_and_si128(packed, mask);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(packed, 4), mask);
  const __m256i both = _mm256_set_m128i(hi, lo);
  return _mm256_sub_epi8(both, _mm256_set1_epi8(8));
}

float dot_q4_0(const BlockQ4_0* w, const BlockQ8x* x, int64_t blocks) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    const __m256i wq = unpack_q4(w[b].qs);
    const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
    const __m256 d = _mm256_set1_ps(fp16_to_fp32(w[b].d) * x[b].d);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_i8(wq, xq)), d, acc);
  }
  return hsum(acc);
}

}  // namespace

void rows_avx2(const TensorView& w, const float* x, const BlockQ8x* xq, int64_t n, float* y,
               int64_t r0, int64_t r1) {
  const int64_t cols = w.cols;
  const int64_t blocks = cols / kQuantBlock;
  for (int64_t r = r0; r < r1; ++r) {
    const void* row = w.row(r);
    for (int64_t i = 0; i < n; ++i) {
      float& out = y[i * w.rows + r];
      switch (w.type) {
        case TensorType::F32:
          out = dot_f32(static_cast<const float*>(row), x + i * cols, cols);
          break;
        case TensorType::F16:
          out = dot_f16(static_cast<const uint16_t*>(row), x + i * cols, cols);
          break;
        case TensorType::Q8_0:
          out = dot_q8_0(static_cast<const BlockQ8_0*>(row), xq + i * blocks, blocks);
          break;
        case TensorType::Q4_0:
          out = dot_q4_0(static_cast<const BlockQ4_0*>(row), xq + i * blocks, blocks);
          break;
      }
    }
  }
}

}  // namespace llmops::engine::kernels
