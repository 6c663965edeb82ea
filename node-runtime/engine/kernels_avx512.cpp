// AVX-512 row kernels: 16-wide FMA for F32 / F16, and VNNI (vpdpbusd) integer dot
// products for Q8_0 / Q4_0 weights against 8-bit inputs, one 32-byte block per lane set.
#include <immintrin.h>

#include "kernels_x86.h"

namespace llmops::engine::kernels {

namespace {

float dot_f32(const float* w, const float* x, int64_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + j), _mm512_loadu_ps(x + j), a0);
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + j + 16), _mm512_loadu_ps(x + j + 16), a1);
  }
  for (; j + 16 <= n; j += 16) {
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + j), _mm512_loadu_ps(x + j), a0);
  }
  if (j < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - j)) - 1);
    a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w + j), _mm512_maskz_loadu_ps(m, x + j), a1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

float dot_f16(const uint16_t* w, const float* x, int64_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    const __m512 w0 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + j)));
    const __m512 w1 =
        _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + j + 16)));
    a0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + j), a0);
    a1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + j + 16), a1);
  }
  for (; j + 16 <= n; j += 16) {
    const __m512 w0 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + j)));
    a0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + j), a0);
  }
  if (j < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - j)) - 1);
    const __m512 w0 = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, w + j));
    a1 = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(m, x + j), a1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

// vpdpbusd multiplies unsigned by signed bytes: |w| against x carrying w's sign.
inline __m256i dot_i8(__m256i w, __m256i x) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(w), _mm256_sign_epi8(x, w));
}

}  // namespace

void rows_avx512(const TensorView& w, const float* x, const BlockQ8x* xq, int64_t n, float* y,
                 int64_t r0, int64_t r1) {
  rows<dot_f32, dot_f16, dot_i8>(w, x, xq, n, y, r0, r1);
}

}  // namespace llmops::engine::kernels
