// AVX2 kernels for K-quant weights (integer dot products against 8-bit inputs, see
// kernels_kquants_x86.h) and BF16 weights (8-lane FMA against float inputs).
#include <immintrin.h>

#include "kernels_kquants_x86.h"

namespace llmops::engine::kernels {

namespace {

// Adds d · dx[c] · Σ scale · (q·x pairs) of each 32-value chunk c of one super-block.
struct DotAvx2 {
  static __m256 run(const DecodedSuper& w, const int8_t* x, const float* dx, __m256 acc) {
#pragma unroll
    for (int c = 0; c < 8; ++c) {
      const __m256i q = _mm256_load_si256(reinterpret_cast<const __m256i*>(w.q + 32 * c));
      const __m256i pairs = _mm256_maddubs_epi16(q, load256u(x + 32 * c));
      const __m256i scale = _mm256_load_si256(reinterpret_cast<const __m256i*>(w.scale + 16 * c));
      const __m256 sum = _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, scale));
      acc = _mm256_fmadd_ps(sum, _mm256_set1_ps(w.d * dx[c]), acc);
    }
    return acc;
  }
};

// 8 BF16 values as floats (a BF16 is the top half of an fp32).
inline __m256 bf16x8(__m128i h) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

// BF16 weights against float inputs: one 8-lane FMA accumulator per output, the last
// partial chunk zero-padded.
struct Bf16Tile {
  static constexpr int kRows = 4, kTokens = 3, kRowsAlone = 8;
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
    __m256 acc[R][T];
#pragma unroll
    for (int k = 0; k < R; ++k) {
#pragma unroll
      for (int t = 0; t < T; ++t) acc[k][t] = _mm256_setzero_ps();
    }
    int64_t j = 0;
    for (; j + 8 <= cols; j += 8) {
      __m256 wv[R];
#pragma unroll
      for (int k = 0; k < R; ++k) {
        wv[k] = bf16x8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wr[k] + j)));
        prefetch_next_tile(wr[k] + j, a.w_stride * R);
      }
#pragma unroll
      for (int t = 0; t < T; ++t) {
        const __m256 xv = _mm256_loadu_ps(xt[t] + j);
#pragma unroll
        for (int k = 0; k < R; ++k) acc[k][t] = _mm256_fmadd_ps(wv[k], xv, acc[k][t]);
      }
    }
    if (j < cols) {
      const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
      const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(cols - j)), lane);
      __m256 wv[R];
#pragma unroll
      for (int k = 0; k < R; ++k) wv[k] = bf16x8(load_f16_tail(wr[k] + j, cols - j));
#pragma unroll
      for (int t = 0; t < T; ++t) {
        const __m256 xv = _mm256_maskload_ps(xt[t] + j, mask);
#pragma unroll
        for (int k = 0; k < R; ++k) acc[k][t] = _mm256_fmadd_ps(wv[k], xv, acc[k][t]);
      }
    }
#pragma unroll
    for (int t = 0; t < T; ++t) {
#pragma unroll
      for (int k = 0; k < R; ++k) a.y[(i + t) * a.y_stride + r + k] = hsum256(acc[k][t]);
    }
  }
};

}  // namespace

void rows_kquants_avx2(const TensorView& w, const float* x, const QuantizedInputs& xq, int64_t n,
                       float* y, int64_t r0, int64_t r1) {
  const TileArgs a = make_tile_args(w, x, xq, y);
  if (w.type == TensorType::BF16) {
    TileLoop<Bf16Tile>::run({a}, n, r0, r1, a.w_stride);
    return;
  }
  run_kquant_rows<DotAvx2>(w, a, n, r0, r1);
}

}  // namespace llmops::engine::kernels
