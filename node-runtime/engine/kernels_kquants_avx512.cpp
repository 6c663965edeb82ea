// AVX-512 kernels for K-quant weights and BF16 weights. The K-quant integer dot product
// runs on 64-value chunks (maddubs, then VNNI vpdpwssd applies the sub-block scales),
// scaled per 32-value chunk in 16 float lanes. BF16: 16-lane FMA against float inputs.
#include <immintrin.h>

#include "kernels_kquants_x86.h"

namespace llmops::engine::kernels {

namespace {

// Adds d · dx[c] · Σ scale · (q·x pairs) per 32-value chunk c, two chunks per 512-bit
// register (lanes 0-7 chunk 2m, 8-15 chunk 2m + 1), folded onto 8 lanes at the end.
struct DotAvx512 {
  static __m256 run(const DecodedSuper& w, const int8_t* x, const float* dx, __m256 acc) {
    const __m512i pair_index = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    __m512 wide = _mm512_setzero_ps();
#pragma unroll
    for (int m = 0; m < 4; ++m) {
      const __m512i q = _mm512_load_si512(w.q + 64 * m);
      const __m512i pairs = _mm512_maddubs_epi16(q, _mm512_loadu_si512(x + 64 * m));
      const __m512i sum =
          _mm512_dpwssd_epi32(_mm512_setzero_si512(), pairs, _mm512_load_si512(w.scale + 32 * m));
      const float two[2] = {w.d * dx[2 * m], w.d * dx[2 * m + 1]};
      const __m128 both = _mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(two)));
      const __m512 scales = _mm512_permutexvar_ps(pair_index, _mm512_castps128_ps512(both));
      wide = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), scales, wide);
    }
    const __m256 lo = _mm512_castps512_ps256(wide);
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(wide), 1));
    return _mm256_add_ps(acc, _mm256_add_ps(lo, hi));
  }
};

// A fixed tree (halves, then hsum256).
inline float hsum512(__m512 v) {
  const __m256 lo = _mm512_castps512_ps256(v);
  const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
  return hsum256(_mm256_add_ps(lo, hi));
}

// Up to 16 BF16 values (lanes past `m` zero) as floats.
inline __m512 bf16x16(const uint16_t* p, __mmask16 m) {
  const __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}

struct Bf16Tile {
  static constexpr int kRows = 4, kTokens = 6, kRowsAlone = 8;
  static constexpr size_t kBlockBytes = 256 * 1024;
  TileArgs a;

  void begin_rows(int64_t, int64_t) const {}  // nothing to prepare per block of rows

  template <int R, int T>
  void run(int64_t r, int64_t i) const {
    const int64_t cols = a.cols;
    const uint16_t* wr[R];
#pragma unroll
    for (int k = 0; k < R; ++k) wr[k] = a.row<uint16_t>(r + k);
    const float* xt[T];
#pragma unroll
    for (int t = 0; t < T; ++t) xt[t] = a.x + (i + t) * cols;
    __m512 acc[R][T];
#pragma unroll
    for (int k = 0; k < R; ++k) {
#pragma unroll
      for (int t = 0; t < T; ++t) acc[k][t] = _mm512_setzero_ps();
    }
    for (int64_t j = 0; j < cols; j += 16) {
      const auto m =
          static_cast<__mmask16>(cols - j >= 16 ? 0xffff : (1u << static_cast<int>(cols - j)) - 1);
      __m512 wv[R];
#pragma unroll
      for (int k = 0; k < R; ++k) {
        wv[k] = bf16x16(wr[k] + j, m);
        prefetch_next_tile(wr[k] + j, a.w_stride * R);
      }
#pragma unroll
      for (int t = 0; t < T; ++t) {
        const __m512 xv = _mm512_maskz_loadu_ps(m, xt[t] + j);
#pragma unroll
        for (int k = 0; k < R; ++k) acc[k][t] = _mm512_fmadd_ps(wv[k], xv, acc[k][t]);
      }
    }
#pragma unroll
    for (int t = 0; t < T; ++t) {
#pragma unroll
      for (int k = 0; k < R; ++k) a.y[(i + t) * a.y_stride + r + k] = hsum512(acc[k][t]);
    }
  }
};

}  // namespace

void rows_kquants_avx512(const TensorView& w, const float* x, const QuantizedInputs& xq, int64_t n,
                         float* y, int64_t r0, int64_t r1) {
  const TileArgs a = make_tile_args(w, x, xq, y);
  if (w.type == TensorType::BF16) {
    TileLoop<Bf16Tile>::run({a}, n, r0, r1, a.w_stride);
    return;
  }
  run_kquant_rows<DotAvx512>(w, a, n, r0, r1);
}

}  // namespace llmops::engine::kernels
