// Internal to the x86 kernel variants: the parts AVX2 and AVX-512 share. Everything here
// has internal linkage on purpose: each variant's file compiles its own copy for its own
// instruction set, so no AVX-512 code can be picked by the linker for the AVX2 path.
#pragma once

#include <immintrin.h>

#include <cstring>

#include "kernels_variants.h"
#include "quant.h"

namespace llmops::engine::kernels {
namespace {

// A fixed tree (halves, then quarters, ...): every output reduces the same way.
inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// What every matmul tile reads: weight rows, inputs (float or quantized), outputs.
struct TileArgs {
  const uint8_t* w = nullptr;  // row r at w + r * w_stride
  size_t w_stride = 0;
  int64_t cols = 0;
  const float* x = nullptr;  // input i at x + i * cols
  QuantizedInputs xq;
  float* y = nullptr;  // output (i, r) at y[i * y_stride + r]
  int64_t y_stride = 0;

  template <class Block>
  const Block* row(int64_t r) const {
    return reinterpret_cast<const Block*>(w + static_cast<size_t>(r) * w_stride);
  }
};

inline TileArgs make_tile_args(const TensorView& w, const float* x, const QuantizedInputs& xq,
                               float* y) {
  TileArgs a;
  a.w = static_cast<const uint8_t*>(w.data);
  a.w_stride = w.row_size();
  a.cols = w.cols;
  a.x = x;
  a.xq = xq;
  a.y = y;
  a.y_stride = w.rows;
  return a;
}

// Weight rows stream from memory once per product. While a tile computes, it asks for
// the same spot of the next tile's rows (`distance` bytes on) so that they arrive in time.
inline void prefetch_next_tile(const void* p, size_t distance) {
  _mm_prefetch(static_cast<const char*>(p) + distance, _MM_HINT_T0);
}

// Up to 7 fp16 values of a row's tail, zero-padded to 8 (AVX2 has no masked 16-bit load).
inline __m128i load_f16_tail(const uint16_t* w, int64_t count) {
  uint16_t buf[8] = {};
  std::memcpy(buf, w, static_cast<size_t>(count) * sizeof(uint16_t));
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(buf));
}

}  // namespace
}  // namespace llmops::engine::kernels
