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
    // 16 columns a step (one prefetch per row and step: a cache line of F32), each output
    // still one FMA chain over its 8-column chunks in order.
    for (; j + 16 <= cols; j += 16) {
#pragma unroll
      for (int k = 0; k < R; ++k) prefetch_next_tile(wr[k] + j * (kF16 ? 2 : 4), a.w_stride * R);
#pragma unroll
      for (int half = 0; half < 16; half += 8) {
        __m256 wv[R];
        load_rows<R>(wr, j + half, wv);
#pragma unroll
        for (int t = 0; t < T; ++t) {
          const __m256 xv = _mm256_loadu_ps(xt[t] + j + half);
#pragma unroll
          for (int k = 0; k < R; ++k) acc[k][t] = _mm256_fmadd_ps(wv[k], xv, acc[k][t]);
        }
      }
    }
    for (; j + 8 <= cols; j += 8) {
      __m256 wv[R];
      load_rows<R>(wr, j, wv);
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

// Q4_0 nibbles (0..15) times signed bytes as 8 int32 lanes; the caller subtracts 8·Σx
// (exact: a pair is at most 2·15·128).
inline __m256i dot_u4(__m256i nibbles, __m256i x) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(nibbles, x), _mm256_set1_epi16(1));
}

// 32 nibbles of a Q4_0 block as unsigned bytes 0..15, low nibbles first as in ggml: the
// 16 bytes in both halves, the upper half shifted right by 4 (64-bit lanes: the bits that
// cross into a byte from its neighbour are masked off).
inline __m256i unpack_nibbles(const uint8_t* qs) {
  const __m256i both =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  const __m256i shifted = _mm256_srlv_epi64(both, _mm256_setr_epi64x(0, 0, 4, 4));
  return _mm256_and_si256(shifted, _mm256_set1_epi8(0x0f));
}

// Lane sums of 8 int32 vectors in two halves: quad_sums(v0..v3) = [v0..v3's sums of lanes
// 0-3 | the same of lanes 4-7], and join_quads(of v0..v3, of v4..v7) has in lane k the
// sum of v[k]'s lanes. Integer, hence exact in any order.
inline __m256i quad_sums(__m256i v0, __m256i v1, __m256i v2, __m256i v3) {
  return _mm256_hadd_epi32(_mm256_hadd_epi32(v0, v1), _mm256_hadd_epi32(v2, v3));
}
inline __m256i join_quads(__m256i lo, __m256i hi) {
  return _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x20),
                          _mm256_permute2x128_si256(lo, hi, 0x31));
}

// Q8_0 or Q4_0 (kQ4) weights against quantized inputs, eight rows at a time with one
// float lane per row: per block, each row's integer dot product with an input is summed
// exactly across its lanes, and lane k accumulates
//   acc = fma(float(isum_k), d_w[k] · d_x, acc)
// block after block. That sequence is the same for every output whatever the tile, the
// batch or the thread split; a tile of fewer than 8 rows repeats its last row in the
// unused lanes and drops them. Q4_0 nibbles enter unsigned (0..15) and the input's 8·Σx
// per block is subtracted from the integer sum.
template <bool kQ4>
struct QuantTile {
  static constexpr int kLanes = 8;
  static constexpr int kRows = kLanes, kTokens = 3, kRowsAlone = kLanes;
  static constexpr size_t kBlockBytes = 0;
  using Block = std::conditional_t<kQ4, BlockQ4_0, BlockQ8_0>;
  TileArgs a;

  void begin_rows(int64_t, int64_t) const {}  // nothing to prepare per block of rows

  // The 8 rows' fp16 scales of block b as floats.
  static __m256 row_scales(const Block* const (&wr)[kLanes], int64_t b) {
    __m128i h = _mm_cvtsi32_si128(wr[0][b].d);
    h = _mm_insert_epi16(h, wr[1][b].d, 1);
    h = _mm_insert_epi16(h, wr[2][b].d, 2);
    h = _mm_insert_epi16(h, wr[3][b].d, 3);
    h = _mm_insert_epi16(h, wr[4][b].d, 4);
    h = _mm_insert_epi16(h, wr[5][b].d, 5);
    h = _mm_insert_epi16(h, wr[6][b].d, 6);
    h = _mm_insert_epi16(h, wr[7][b].d, 7);
    return _mm256_cvtph_ps(h);
  }

  template <int R, int T>
  void run(int64_t r, int64_t i) const {
    const int64_t cols = a.cols;
    const int64_t blocks = cols / kQuantBlock;
    const Block* wr[kLanes];
#pragma unroll
    for (int k = 0; k < kLanes; ++k) wr[k] = a.row<Block>(r + std::min(k, R - 1));
    const int8_t* xt[T];
    const float* dt[T];
    const int32_t* st[T];
#pragma unroll
    for (int t = 0; t < T; ++t) {
      xt[t] = a.xq.qs + (i + t) * cols;
      dt[t] = a.xq.d + (i + t) * blocks;
      st[t] = kQ4 ? a.xq.q4_bias + (i + t) * blocks : nullptr;
    }
    __m256 acc[T];
#pragma unroll
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    // The next tile's rows follow this tile's in memory: ask for them in order, as many
    // bytes per block step as this step reads.
    const uint8_t* next = a.w + static_cast<size_t>(r + kLanes) * a.w_stride;
    constexpr int kStepBytes = kLanes * sizeof(Block);
    for (int64_t b = 0; b < blocks; ++b, next += kStepBytes) {
#pragma unroll
      for (int line = 0; line < kStepBytes; line += 64) prefetch_next_tile(next, line);
      // Four rows at a time (their weights stay in registers across the inputs), then
      // the two halves' sums are joined per input.
      __m256i quads[2][T];
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        __m256i wq[4], wabs[4];
#pragma unroll
        for (int k = 0; k < 4; ++k) {
          const Block& block = wr[4 * half + k][b];
          if constexpr (kQ4) {
            wq[k] = unpack_nibbles(block.qs);
          } else {
            wq[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qs));
            wabs[k] = _mm256_abs_epi8(wq[k]);
          }
        }
#pragma unroll
        for (int t = 0; t < T; ++t) {
          const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xt[t] + b * 32));
          __m256i dots[4];
#pragma unroll
          for (int k = 0; k < 4; ++k) {
            dots[k] = kQ4 ? dot_u4(wq[k], xv) : dot_i8(wabs[k], wq[k], xv);
          }
          quads[half][t] = quad_sums(dots[0], dots[1], dots[2], dots[3]);
        }
      }
      const __m256 dw = row_scales(wr, b);
#pragma unroll
      for (int t = 0; t < T; ++t) {
        __m256i isum = join_quads(quads[0][t], quads[1][t]);
        if constexpr (kQ4) isum = _mm256_sub_epi32(isum, _mm256_set1_epi32(st[t][b]));
        const __m256 d = _mm256_mul_ps(dw, _mm256_set1_ps(dt[t][b]));
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), d, acc[t]);
      }
    }
#pragma unroll
    for (int t = 0; t < T; ++t) {
      float* out = a.y + (i + t) * a.y_stride + r;
      if constexpr (R == kLanes) {
        _mm256_storeu_ps(out, acc[t]);
      } else {
        _mm256_maskstore_ps(out, tail_mask(R), acc[t]);
      }
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

void q4_bias_avx2(const int8_t* qs, int64_t n, int32_t* bias) {
  const __m256i ones8 = _mm256_set1_epi8(1);
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + b * kQuantBlock));
    const __m256i pairs = _mm256_maddubs_epi16(ones8, x);  // |pair| ≤ 256: exact
    const __m256i quads = _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(quads), _mm256_extracti128_si256(quads, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    bias[b] = 8 * _mm_cvtsi128_si32(s);
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
