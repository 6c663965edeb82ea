// AVX2 + FMA + F16C kernels. F32 / F16 weights: one 8-lane FMA accumulator per output.
// Q8_0 / Q4_0 weights meet 8-bit inputs in integer dot products (exact), scaled per
// block in float. Tiles of rows × inputs reuse each loaded weight block for several
// inputs; every output accumulates exactly as it would alone.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels_x86.h"

namespace llmops::engine::kernels {

namespace {

// Lanes of the last, partial 8-column chunk.
inline __m256i tail_mask(int64_t count) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), lane);
}

// F32 (kF16 = false) or F16 weights against float inputs.
template <bool kF16>
struct FloatTile {
  static constexpr int kRows = 4, kTokens = 3, kRowsAlone = 8;
  static constexpr size_t kBlockBytes = 256 * 1024;
  TileArgs a;

  void begin_rows(int64_t, int64_t) const {}  // nothing to prepare per block of rows

  template <int R>
  static void load_rows(const uint8_t* const (&wr)[R], int64_t j, __m256 (&wv)[R]) {
#pragma unroll
    for (int k = 0; k < R; ++k) {
      if constexpr (kF16) {
        const auto* p = reinterpret_cast<const uint16_t*>(wr[k]) + j;
        wv[k] = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
      } else {
        wv[k] = _mm256_loadu_ps(reinterpret_cast<const float*>(wr[k]) + j);
      }
    }
  }

  template <int R, int T>
  void run(int64_t r, int64_t i) const {
    const int64_t cols = a.cols;
    const uint8_t* wr[R];
#pragma unroll
    for (int k = 0; k < R; ++k) wr[k] = a.w + static_cast<size_t>(r + k) * a.w_stride;
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
      load_rows<R>(wr, j, wv);
#pragma unroll
      for (int k = 0; k < R; ++k) prefetch_next_tile(wr[k] + j * (kF16 ? 2 : 4), a.w_stride * R);
#pragma unroll
      for (int t = 0; t < T; ++t) {
        const __m256 xv = _mm256_loadu_ps(xt[t] + j);
#pragma unroll
        for (int k = 0; k < R; ++k) acc[k][t] = _mm256_fmadd_ps(wv[k], xv, acc[k][t]);
      }
    }
    if (j < cols) {
      const __m256i mask = tail_mask(cols - j);
      __m256 wv[R];
#pragma unroll
      for (int k = 0; k < R; ++k) {
        if constexpr (kF16) {
          wv[k] = _mm256_cvtph_ps(
              load_f16_tail(reinterpret_cast<const uint16_t*>(wr[k]) + j, cols - j));
        } else {
          wv[k] = _mm256_maskload_ps(reinterpret_cast<const float*>(wr[k]) + j, mask);
        }
      }
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

// Sum of w[j] * x[j] over 32 signed bytes as 8 int32 lanes (lane l: bytes 4l..4l+3):
// maddubs needs an unsigned operand, so multiply |w| by x carrying w's sign (exact:
// |w|·|x| ≤ 128·127, and a pair fits in int16).
inline __m256i dot_i8(__m256i w_abs, __m256i w, __m256i x) {
  const __m256i pairs = _mm256_maddubs_epi16(w_abs, _mm256_sign_epi8(x, w));
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

// Q8_0 or Q4_0 (kQ4) weights against quantized inputs: per output, an 8-lane float
// accumulator gets each block's integer sums times (weight scale × input scale).
template <bool kQ4>
struct QuantTile {
  static constexpr int kRows = 2, kTokens = 4, kRowsAlone = 4;
  static constexpr size_t kBlockBytes = 0;
  using Block = std::conditional_t<kQ4, BlockQ4_0, BlockQ8_0>;
  TileArgs a;

  void begin_rows(int64_t, int64_t) const {}  // nothing to prepare per block of rows

  template <int R, int T>
  void run(int64_t r, int64_t i) const {
    const int64_t cols = a.cols;
    const int64_t blocks = cols / kQuantBlock;
    const Block* wr[R];
#pragma unroll
    for (int k = 0; k < R; ++k) wr[k] = a.row<Block>(r + k);
    const int8_t* xt[T];
    const float* dt[T];
#pragma unroll
    for (int t = 0; t < T; ++t) {
      xt[t] = a.xq.qs + (i + t) * cols;
      dt[t] = a.xq.d + (i + t) * blocks;
    }
    __m256 acc[R][T];
#pragma unroll
    for (int k = 0; k < R; ++k) {
#pragma unroll
      for (int t = 0; t < T; ++t) acc[k][t] = _mm256_setzero_ps();
    }
    for (int64_t b = 0; b < blocks; ++b) {
      __m256i wq[R], wabs[R];
      __m256 dw[R];
#pragma unroll
      for (int k = 0; k < R; ++k) {
        if constexpr (kQ4) {
          wq[k] = unpack_q4(wr[k][b].qs);
        } else {
          wq[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr[k][b].qs));
        }
        wabs[k] = _mm256_abs_epi8(wq[k]);
        dw[k] = _mm256_set1_ps(_cvtsh_ss(wr[k][b].d));
        prefetch_next_tile(&wr[k][b], a.w_stride * R);
      }
#pragma unroll
      for (int t = 0; t < T; ++t) {
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xt[t] + b * 32));
        const __m256 dx = _mm256_set1_ps(dt[t][b]);
#pragma unroll
        for (int k = 0; k < R; ++k) {
          const __m256 dot = _mm256_cvtepi32_ps(dot_i8(wabs[k], wq[k], xv));
          acc[k][t] = _mm256_fmadd_ps(dot, _mm256_mul_ps(dw[k], dx), acc[k][t]);
        }
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

void quantize_avx2(const float* x, int64_t n, int8_t* qs, float* d) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    __m256 v[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) v[k] = _mm256_loadu_ps(xb + 8 * k);
    const __m256 m =
        _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v[0], abs_mask), _mm256_and_ps(v[1], abs_mask)),
                      _mm256_max_ps(_mm256_and_ps(v[2], abs_mask), _mm256_and_ps(v[3], abs_mask)));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    // The same arithmetic as quantize_scalar, so the bytes are identical.
    const float amax = _mm_cvtss_f32(m4);
    const float scale = amax / 127.0f;
    const float inverse = scale != 0.0f ? 1.0f / scale : 0.0f;
    d[b] = scale;
    const __m256 id = _mm256_set1_ps(inverse);
    __m256i q[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      q[k] = _mm256_cvtps_epi32(
          _mm256_round_ps(_mm256_mul_ps(v[k], id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    // Packing interleaves 128-bit lanes; the permute puts the 4-byte groups back in order.
    const __m256i bytes =
        _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs + b * kQuantBlock),
                        _mm256_permutevar8x32_epi32(bytes, order));
  }
}

void scores_avx2(const float* q, const float* keys, int64_t stride, int positions, int head_size,
                 float* att) {
  for (int p = 0; p < positions; ++p) {
    const float* k = keys + p * stride;
    __m256 acc = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= head_size; i += 8) {
      acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(k + i), acc);
    }
    if (i < head_size) {
      const __m256i m = tail_mask(head_size - i);
      acc = _mm256_fmadd_ps(_mm256_maskload_ps(q + i, m), _mm256_maskload_ps(k + i, m), acc);
    }
    att[p] = hsum256(acc);
  }
  // Divided (not multiplied by the reciprocal) as llama2.c does, 8 at a time.
  const __m256 sqrt_head = _mm256_set1_ps(std::sqrt(static_cast<float>(head_size)));
  for (int p = 0; p < positions; p += 8) {
    const __m256i m = tail_mask(std::min(8, positions - p));
    _mm256_maskstore_ps(att + p, m, _mm256_div_ps(_mm256_maskload_ps(att + p, m), sqrt_head));
  }
}

// Each output lane is one FMA chain over the positions in order; four 8-lane chunks go
// side by side so that the chains overlap.
void mix_avx2(const float* att, const float* values, int64_t stride, int positions, int head_size,
              float* out) {
  constexpr int kChunks = 4;
  for (int i0 = 0; i0 < head_size; i0 += 8 * kChunks) {
    __m256i m[kChunks];
    __m256 acc[kChunks];
    for (int c = 0; c < kChunks; ++c) {
      m[c] = tail_mask(std::clamp(head_size - i0 - 8 * c, 0, 8));
      acc[c] = _mm256_setzero_ps();
    }
    for (int p = 0; p < positions; ++p) {
      const __m256 a = _mm256_set1_ps(att[p]);
      const float* v = values + p * stride + i0;
#pragma unroll
      for (int c = 0; c < kChunks; ++c) {
        acc[c] = _mm256_fmadd_ps(a, _mm256_maskload_ps(v + 8 * c, m[c]), acc[c]);
      }
    }
    for (int c = 0; c < kChunks; ++c) _mm256_maskstore_ps(out + i0 + 8 * c, m[c], acc[c]);
  }
}

void rows_avx2(const TensorView& w, const float* x, const QuantizedInputs& xq, int64_t n, float* y,
               int64_t r0, int64_t r1) {
  const TileArgs a = make_tile_args(w, x, xq, y);
  switch (w.type) {
    case TensorType::F32:
      TileLoop<FloatTile<false>>::run({a}, n, r0, r1, a.w_stride);
      return;
    case TensorType::F16:
      TileLoop<FloatTile<true>>::run({a}, n, r0, r1, a.w_stride);
      return;
    case TensorType::Q8_0:
      TileLoop<QuantTile<false>>::run({a}, n, r0, r1, a.w_stride);
      return;
    case TensorType::Q4_0:
      TileLoop<QuantTile<true>>::run({a}, n, r0, r1, a.w_stride);
      return;
    case TensorType::BF16:
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K:
      rows_kquants_avx2(w, x, xq, n, y, r0, r1);
      return;
  }
}

}  // namespace llmops::engine::kernels
