// Internal to the x86 K-quant kernels (kernels_kquants_avx2.cpp, _avx512.cpp): decoding
// a weight super-block for integer dot products with 8-bit inputs, and the tile of rows ×
// inputs around it. Internal linkage, like kernels_x86.h: each variant compiles its own
// copy for its instruction set, and passes its own integer dot product (Dot).
#pragma once

#include <immintrin.h>

#include "kernels_x86.h"
#include "kquants.h"

namespace llmops::engine::kernels {
namespace {

// One weight row's super-block, ready for 8-bit inputs x (a scale dx[c] per 32-value
// chunk c, the sum s[g] of each 16 values):
//   Σ_j w_j x_j = Σ_c dx[c] · (d · Σ_p∈c scale[p] · (q[2p] x[2p] + q[2p+1] x[2p+1])
//                              − dcorr · (corr[2c] s[2c] + corr[2c+1] s[2c+1]))
// with q unsigned (maddubs multiplies unsigned by signed bytes). Q4_K / Q5_K: scale is
// the sub-block's 6-bit scale, corr its 6-bit min, d and dcorr the fp16 d and dmin.
// Q6_K: q = value + 32, scale the group's int8 scale, corr = 32 · scale, dcorr = d.
// Each chunk's integer sums are exact in int32 (|pair| ≤ 63·127·2, |scale| ≤ 128).
struct alignas(64) DecodedSuper {
  uint8_t q[kSuperBlock];
  int16_t scale[kSuperBlock / 2];
  int16_t corr[kSuperBlock / 16];
  float d;
  float dcorr;
};

inline void store256(void* p, __m256i v) {
  _mm256_store_si256(static_cast<__m256i*>(p), v);
}

inline __m256i load256u(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// Q4_K and Q5_K: one scale per 32 values (16 pairs), one min per 32 (two 16-sums).
inline void set_scales_and_mins(const uint8_t* packed, uint16_t d, uint16_t dmin,
                                DecodedSuper& out) {
  uint8_t sc[8], m[8];
  for (int j = 0; j < 8; ++j) unpack_scale_min(packed, j, &sc[j], &m[j]);
  for (int j = 0; j < 8; ++j) store256(out.scale + 16 * j, _mm256_set1_epi16(sc[j]));
  store256(out.corr, _mm256_setr_epi16(m[0], m[0], m[1], m[1], m[2], m[2], m[3], m[3], m[4], m[4],
                                       m[5], m[5], m[6], m[6], m[7], m[7]));
  out.d = _cvtsh_ss(d);
  out.dcorr = _cvtsh_ss(dmin);
}

inline void decode(const BlockQ4_K& b, DecodedSuper& out) {
  const __m256i low = _mm256_set1_epi8(0x0f);
  for (int c = 0; c < 4; ++c) {
    const __m256i raw = load256u(b.qs + 32 * c);
    store256(out.q + 64 * c, _mm256_and_si256(raw, low));
    store256(out.q + 64 * c + 32, _mm256_and_si256(_mm256_srli_epi16(raw, 4), low));
  }
  set_scales_and_mins(b.scales, b.d, b.dmin, out);
}

inline void decode(const BlockQ5_K& b, DecodedSuper& out) {
  const __m256i low = _mm256_set1_epi8(0x0f);
  const __m256i sixteen = _mm256_set1_epi8(16);
  const __m256i high = load256u(b.qh);
  for (int c = 0; c < 4; ++c) {
    const __m256i raw = load256u(b.qs + 32 * c);
    // Bits 2c and 2c+1 of qh[l] are the fifth bits of elements 64c+l and 64c+32+l.
    const __m256i bit_lo = _mm256_set1_epi8(static_cast<char>(1 << (2 * c)));
    const __m256i bit_hi = _mm256_set1_epi8(static_cast<char>(2 << (2 * c)));
    const __m256i add_lo =
        _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(high, bit_lo), bit_lo), sixteen);
    const __m256i add_hi =
        _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(high, bit_hi), bit_hi), sixteen);
    store256(out.q + 64 * c, _mm256_or_si256(_mm256_and_si256(raw, low), add_lo));
    store256(out.q + 64 * c + 32,
             _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(raw, 4), low), add_hi));
  }
  set_scales_and_mins(b.scales, b.d, b.dmin, out);
}

inline void decode(const BlockQ6_K& b, DecodedSuper& out) {
  const __m256i low = _mm256_set1_epi8(0x0f);
  const __m256i two = _mm256_set1_epi8(0x03);
  for (int h = 0; h < 2; ++h) {
    const __m256i ql0 = load256u(b.ql + 64 * h);
    const __m256i ql1 = load256u(b.ql + 64 * h + 32);
    const __m256i qh = load256u(b.qh + 32 * h);
    // Byte-wise shifts as 16-bit shifts plus a mask: the mask drops the neighbour's bits.
    auto top = [&](int shift) {
      return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, shift), two), 4);
    };
    uint8_t* q = out.q + 128 * h;
    store256(q, _mm256_or_si256(_mm256_and_si256(ql0, low), top(0)));
    store256(q + 32, _mm256_or_si256(_mm256_and_si256(ql1, low), top(2)));
    store256(q + 64, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low), top(4)));
    store256(q + 96, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low), top(6)));
  }
  const __m256i sc =
      _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
  store256(out.corr, _mm256_slli_epi16(sc, 5));
  for (int c = 0; c < 8; ++c) {
    store256(out.scale + 16 * c, _mm256_set_m128i(_mm_set1_epi16(b.scales[2 * c + 1]),
                                                  _mm_set1_epi16(b.scales[2 * c])));
  }
  out.d = _cvtsh_ss(b.d);
  out.dcorr = out.d;
}

// K-quant weights against inputs from quantize_kquant_inputs. Per output, an 8-lane float
// accumulator gets each chunk's exact integer sums times the weight and input scales
// (Dot::run, the variant's integer dot product), then the chunks' min / offset
// corrections; the weight super-blocks of a row tile are decoded once for all its inputs.
template <class Block, class Dot>
struct KquantTile {
  static constexpr int kRows = 2, kTokens = 4, kRowsAlone = 4;
  static constexpr size_t kBlockBytes = 0;
  TileArgs a;

  void begin_rows(int64_t, int64_t) const {}  // nothing to prepare per block of rows

  template <int R, int T>
  void run(int64_t r, int64_t i) const {
    const int64_t cols = a.cols;
    const int64_t supers = cols / kSuperBlock;
    const Block* wr[R];
#pragma unroll
    for (int k = 0; k < R; ++k) wr[k] = a.row<Block>(r + k);
    __m256 acc[R][T];
#pragma unroll
    for (int k = 0; k < R; ++k) {
#pragma unroll
      for (int t = 0; t < T; ++t) acc[k][t] = _mm256_setzero_ps();
    }
    DecodedSuper ds[R];
    for (int64_t s = 0; s < supers; ++s) {
#pragma unroll
      for (int k = 0; k < R; ++k) {
        for (size_t line = 0; line < sizeof(Block); line += 64) {
          prefetch_next_tile(reinterpret_cast<const uint8_t*>(&wr[k][s]) + line, a.w_stride * R);
        }
        decode(wr[k][s], ds[k]);
      }
#pragma unroll
      for (int t = 0; t < T; ++t) {
        const int64_t input = i + t;
        const int8_t* xq = a.xq.qs + input * cols + s * kSuperBlock;
        const float* dx = a.xq.d + input * (cols / kQuantBlock) + s * 8;
        const __m256 dxv = _mm256_loadu_ps(dx);
        const __m256i sums = load256u(a.xq.sums + input * (cols / 16) + s * 16);
#pragma unroll
        for (int k = 0; k < R; ++k) {
          acc[k][t] = Dot::run(ds[k], xq, dx, acc[k][t]);
          // Lane c: chunk c's correction, corr[2c] s[2c] + corr[2c+1] s[2c+1].
          const __m256i corr = _mm256_madd_epi16(
              sums, _mm256_load_si256(reinterpret_cast<const __m256i*>(ds[k].corr)));
          acc[k][t] = _mm256_fnmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(corr), dxv),
                                       _mm256_set1_ps(ds[k].dcorr), acc[k][t]);
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

// Runs the K-quant tile of w's type with the variant's integer dot product.
template <class Dot>
void run_kquant_rows(const TensorView& w, const TileArgs& a, int64_t n, int64_t r0, int64_t r1) {
  switch (w.type) {
    case TensorType::Q4_K:
      TileLoop<KquantTile<BlockQ4_K, Dot>>::run({a}, n, r0, r1, a.w_stride);
      return;
    case TensorType::Q5_K:
      TileLoop<KquantTile<BlockQ5_K, Dot>>::run({a}, n, r0, r1, a.w_stride);
      return;
    case TensorType::Q6_K:
      TileLoop<KquantTile<BlockQ6_K, Dot>>::run({a}, n, r0, r1, a.w_stride);
      return;
    default:
      return;
  }
}

}  // namespace
}  // namespace llmops::engine::kernels
