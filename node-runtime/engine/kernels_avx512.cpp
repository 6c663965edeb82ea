// AVX-512 kernels: 16-wide FMA for F32 / F16, and VNNI (vpdpbusd) integer dot products
// for Q8_0 / Q4_0 weights against 8-bit inputs, two 32-value blocks per 512-bit register
// (lanes 0-7 the even block, 8-15 the odd one). Tiles of rows × inputs reuse each loaded
// weight block for several inputs; every output accumulates exactly as it would alone.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels_x86.h"

namespace llmops::engine::kernels {

namespace {

// A fixed tree, unlike _mm512_reduce_add_ps whose order the compiler chooses.
inline float hsum512(__m512 v) {
  const __m256 lo = _mm512_castps512_ps256(v);
  const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
  return hsum256(_mm256_add_ps(lo, hi));
}

// F32 (kF16 = false) or F16 weights against float inputs: one 16-lane accumulator per
// output, the last partial chunk masked.
template <bool kF16>
struct FloatTile {
  static constexpr int kRows = 4, kTokens = 6, kRowsAlone = 8;
  static constexpr size_t kBlockBytes = 256 * 1024;
  TileArgs a;

  void begin_rows(int64_t, int64_t) const {}  // nothing to prepare per block of rows

  template <int R>
  static void load_rows(const uint8_t* const (&wr)[R], int64_t j, __mmask16 m, __m512 (&wv)[R]) {
#pragma unroll
    for (int k = 0; k < R; ++k) {
      if constexpr (kF16) {
        const auto* p = reinterpret_cast<const uint16_t*>(wr[k]) + j;
        wv[k] = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
      } else {
        wv[k] = _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(wr[k]) + j);
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
    __m512 acc[R][T];
#pragma unroll
    for (int k = 0; k < R; ++k) {
#pragma unroll
      for (int t = 0; t < T; ++t) acc[k][t] = _mm512_setzero_ps();
    }
    int64_t j = 0;
    for (; j + 16 <= cols; j += 16) {
      __m512 wv[R];
      load_rows<R>(wr, j, 0xffff, wv);
#pragma unroll
      for (int k = 0; k < R; ++k) {
        prefetch_next_tile(wr[k] + j * (kF16 ? 2 : 4), a.w_stride * R);
      }
#pragma unroll
      for (int t = 0; t < T; ++t) {
        const __m512 xv = _mm512_loadu_ps(xt[t] + j);
#pragma unroll
        for (int k = 0; k < R; ++k) acc[k][t] = _mm512_fmadd_ps(wv[k], xv, acc[k][t]);
      }
    }
    if (j < cols) {
      const auto m = static_cast<__mmask16>((1u << (cols - j)) - 1);
      __m512 wv[R];
      load_rows<R>(wr, j, m, wv);
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

inline __m512i pair_index() {
  return _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
}

// s[0] in lanes 0-7, s[1] in lanes 8-15.
inline __m512 spread_pair(const float* s) {
  const __m128 two = _mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(s)));
  return _mm512_permutexvar_ps(pair_index(), _mm512_castps128_ps512(two));
}

// 64 bytes of two blocks (or 32 of a lone last block, zero above).
inline __m512i load_pair(const void* lo, const void* hi, bool lone) {
  const __m256i a = _mm256_loadu_si256(static_cast<const __m256i*>(lo));
  if (lone) return _mm512_zextsi256_si512(a);
  return _mm512_inserti64x4(_mm512_castsi256_si512(a),
                            _mm256_loadu_si256(static_cast<const __m256i*>(hi)), 1);
}

// Q8_0 or Q4_0 (kQ4) weights against quantized inputs. vpdpbusd multiplies unsigned by
// signed bytes, so weights enter as value + offset (Q8_0: w + 128, i.e. w ^ 0x80; Q4_0:
// the raw nibble, w + 8) and each lane starts from the input's −offset × Σx
// (InputPair::bias), which leaves the exact dot product of the lane's 4 values. Per output,
// a 16-lane float accumulator gets each block pair's sums times (weight × input scale).
template <bool kQ4>
struct QuantTile {
  static constexpr int kRows = 4, kTokens = 4, kRowsAlone = 8;
  static constexpr size_t kBlockBytes = 0;
  using Block = std::conditional_t<kQ4, BlockQ4_0, BlockQ8_0>;
  TileArgs a;
  // The weight scales of the current block of rows as floats: row r at
  // (r - rows_begin) * (blocks + 1), a zero after each row's last block (the partner of a
  // lone block). Converted once per block, not once per input tile.
  float* scales = nullptr;
  mutable int64_t rows_begin = 0;

  static __m512i load_weights(const Block& b0, const Block& b1, bool lone) {
    if constexpr (kQ4) {
      const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b0.qs));
      const __m128i q1 =
          lone ? _mm_setzero_si128() : _mm_loadu_si128(reinterpret_cast<const __m128i*>(b1.qs));
      // 128-bit lanes [q0, q0, q1, q1]; low nibbles from lanes 0 and 2, high from 1 and 3.
      const __m512i q = _mm512_castsi256_si512(_mm256_set_m128i(q1, q0));
      const __m512i spread = _mm512_shuffle_i64x2(q, q, 0x50);
      const __m512i shift = _mm512_setr_epi64(0, 0, 0x0004000400040004, 0x0004000400040004, 0, 0,
                                              0x0004000400040004, 0x0004000400040004);
      return _mm512_and_si512(_mm512_srlv_epi16(spread, shift), _mm512_set1_epi8(0x0f));
    } else {
      return _mm512_xor_si512(load_pair(b0.qs, b1.qs, lone), _mm512_set1_epi8(-128));
    }
  }

  void begin_rows(int64_t rb, int64_t re) const {
    const int64_t blocks = a.cols / kQuantBlock;
    // 16 blocks at a time: gather the dword at each block's start, keep its low half
    // (the fp16 scale), convert.
    const __m512i offsets =
        _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                           _mm512_set1_epi32(static_cast<int>(sizeof(Block))));
    for (int64_t r = rb; r < re; ++r) {
      const Block* row = a.row<Block>(r);
      float* out = scales + (r - rb) * (blocks + 1);
      for (int64_t b = 0; b < blocks; b += 16) {
        const auto m = static_cast<__mmask16>(blocks - b >= 16 ? 0xffff : (1u << (blocks - b)) - 1);
        const __m512i raw =
            _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, offsets, &row[b], 1);
        _mm512_mask_storeu_ps(out + b, m, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(raw)));
      }
      out[blocks] = 0.0f;
    }
    rows_begin = rb;
  }

  template <int R, int T>
  void run(int64_t r, int64_t i) const {
    const int64_t blocks = a.cols / kQuantBlock;
    const int64_t pairs = (blocks + 1) / 2;
    const Block* wr[R];
#pragma unroll
    for (int k = 0; k < R; ++k) wr[k] = a.row<Block>(r + k);
    const float* row_scales = scales + (r - rows_begin) * (blocks + 1);
    __m512 acc[R][T];
#pragma unroll
    for (int k = 0; k < R; ++k) {
#pragma unroll
      for (int t = 0; t < T; ++t) acc[k][t] = _mm512_setzero_ps();
    }
    for (int64_t b = 0; b < blocks; b += 2) {
      const bool lone = b + 1 == blocks;
      __m512i wv[R];
      __m512 dw[R];
#pragma unroll
      for (int k = 0; k < R; ++k) {
        wv[k] = load_weights(wr[k][b], wr[k][lone ? b : b + 1], lone);
        dw[k] = spread_pair(row_scales + k * (blocks + 1) + b);
        prefetch_next_tile(&wr[k][b], a.w_stride * R);
        prefetch_next_tile(&wr[k][b + 1], a.w_stride * R);
      }
#pragma unroll
      for (int t = 0; t < T; ++t) {
        const InputPair& x = a.xq.pairs[(i + t) * pairs + b / 2];
        const __m512i xv = _mm512_load_si512(x.qs);
        const __m512i bias = _mm512_load_si512(x.bias);
        const __m512 dx = _mm512_load_ps(x.d);
#pragma unroll
        for (int k = 0; k < R; ++k) {
          const __m512 dot = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(bias, wv[k], xv));
          acc[k][t] = _mm512_fmadd_ps(dot, _mm512_mul_ps(dw[k], dx), acc[k][t]);
        }
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

void expand_pairs_avx512(const int8_t* qs, const float* d, int64_t blocks, int offset,
                         InputPair* pairs) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i weight = _mm512_set1_epi8(static_cast<char>(offset));
  for (int64_t b = 0; b < blocks; b += 2) {
    const bool lone = b + 1 == blocks;
    InputPair& p = pairs[b / 2];
    const float two[2] = {d[b], lone ? 0.0f : d[b + 1]};
    _mm512_store_ps(p.d, spread_pair(two));
    const __m512i x = load_pair(qs + b * kQuantBlock, qs + (b + 1) * kQuantBlock, lone);
    _mm512_store_si512(p.qs, x);
    _mm512_store_si512(p.bias, _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, weight, x)));
  }
}

void scores_avx512(const float* q, const float* keys, int64_t stride, int positions, int head_size,
                   float* att) {
  for (int p = 0; p < positions; ++p) {
    const float* k = keys + p * stride;
    __m512 acc = _mm512_setzero_ps();
    int i = 0;
    for (; i + 16 <= head_size; i += 16) {
      acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), _mm512_loadu_ps(k + i), acc);
    }
    if (i < head_size) {
      const auto m = static_cast<__mmask16>((1u << (head_size - i)) - 1);
      acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + i), _mm512_maskz_loadu_ps(m, k + i), acc);
    }
    att[p] = hsum512(acc);
  }
  // Divided (not multiplied by the reciprocal) as llama2.c does, 16 at a time.
  const __m512 sqrt_head = _mm512_set1_ps(std::sqrt(static_cast<float>(head_size)));
  for (int p = 0; p < positions; p += 16) {
    const auto m =
        static_cast<__mmask16>(positions - p >= 16 ? 0xffff : (1u << (positions - p)) - 1);
    _mm512_mask_storeu_ps(att + p, m, _mm512_div_ps(_mm512_maskz_loadu_ps(m, att + p), sqrt_head));
  }
}

// Each output lane is one FMA chain over the positions in order; four 16-lane chunks go
// side by side so that the chains overlap.
void mix_avx512(const float* att, const float* values, int64_t stride, int positions, int head_size,
                float* out) {
  constexpr int kChunks = 4;
  for (int i0 = 0; i0 < head_size; i0 += 16 * kChunks) {
    __mmask16 m[kChunks];
    __m512 acc[kChunks];
    for (int c = 0; c < kChunks; ++c) {
      const int left = head_size - i0 - 16 * c;
      m[c] = static_cast<__mmask16>(left >= 16 ? 0xffff : left <= 0 ? 0 : (1u << left) - 1);
      acc[c] = _mm512_setzero_ps();
    }
    for (int p = 0; p < positions; ++p) {
      const __m512 a = _mm512_set1_ps(att[p]);
      const float* v = values + p * stride + i0;
#pragma unroll
      for (int c = 0; c < kChunks; ++c) {
        acc[c] = _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(m[c], v + 16 * c), acc[c]);
      }
    }
    for (int c = 0; c < kChunks; ++c) _mm512_mask_storeu_ps(out + i0 + 16 * c, m[c], acc[c]);
  }
}

void rows_avx512(const TensorView& w, const float* x, const QuantizedInputs& xq, int64_t n,
                 float* y, int64_t r0, int64_t r1) {
  const TileArgs a = make_tile_args(w, x, xq, y);
  switch (w.type) {
    case TensorType::F32:
      TileLoop<FloatTile<false>>::run({a}, n, r0, r1, a.w_stride);
      return;
    case TensorType::F16:
      TileLoop<FloatTile<true>>::run({a}, n, r0, r1, a.w_stride);
      return;
    case TensorType::Q8_0:
    case TensorType::Q4_0:
      break;
    case TensorType::BF16:
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K:
      rows_kquants_avx512(w, x, xq, n, y, r0, r1);
      return;
  }
  thread_local std::vector<float> scales;
  const int64_t rows = std::max(QuantTile<false>::kRows, QuantTile<false>::kRowsAlone);
  scales.resize(static_cast<size_t>(rows * (w.cols / kQuantBlock + 1)));
  if (w.type == TensorType::Q8_0) {
    TileLoop<QuantTile<false>>::run({a, scales.data()}, n, r0, r1, a.w_stride);
  } else {
    TileLoop<QuantTile<true>>::run({a, scales.data()}, n, r0, r1, a.w_stride);
  }
}

}  // namespace llmops::engine::kernels
