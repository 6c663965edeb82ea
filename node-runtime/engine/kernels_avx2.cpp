// AVX2 + FMA + F16C row kernels. Q8_0 / Q4_0 weights meet 8-bit inputs in integer dot
// products (exact), scaled per block in float.
#include <immintrin.h>

#include "kernels_x86.h"

namespace llmops::engine::kernels {

namespace {

float dot_f32(const float* w, const float* x, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + j), _mm256_loadu_ps(x + j), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + j + 8), _mm256_loadu_ps(x + j + 8), a1);
  }
  for (; j + 8 <= n; j += 8)
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + j), _mm256_loadu_ps(x + j), a0);
  float sum = hsum256(_mm256_add_ps(a0, a1));
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
  float sum = hsum256(_mm256_add_ps(a0, a1));
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

}  // namespace

void rows_avx2(const TensorView& w, const float* x, const BlockQ8x* xq, int64_t n, float* y,
               int64_t r0, int64_t r1) {
  rows<dot_f32, dot_f16, dot_i8>(w, x, xq, n, y, r0, r1);
}

}  // namespace llmops::engine::kernels
