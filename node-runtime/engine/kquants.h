// The K-quant super-block encodings (Q4_K, Q5_K, Q6_K: 256 elements each, byte for byte
// as ggml lays them out in GGUF files) and BF16. Scalar encode / decode: the reference the
// kernels test against. quantize_row / dequantize_row (quant.h) dispatch here.
//
// Q4_K / Q5_K: 8 sub-blocks of 32 elements, value = d·sc[j]·q − dmin·m[j] with q in 0..15
// (0..31 for Q5_K) and 6-bit sc / m packed in 12 bytes. Q6_K: 16 groups of 16 elements,
// value = d·sc[g]·(q − 32) with q in 0..63 and int8 sc.
#pragma once

#include <bit>
#include <cstdint>

#include "tensor.h"

namespace llmops::engine {

// The 12 bytes of 6-bit scales and mins: for j < 4, scales[j] holds sc[j] in its low 6
// bits and scales[j + 4] holds m[j]; sc[j + 4] and m[j + 4] put their low 4 bits in
// scales[j + 8] (sc low nibble, m high nibble) and their top 2 bits in bits 6-7 of
// scales[j] and scales[j + 4].
inline constexpr int kScaleBytes = 12;

struct BlockQ4_K {
  uint16_t d;     // fp16 scale of the sub-block scales
  uint16_t dmin;  // fp16 scale of the sub-block mins
  uint8_t scales[kScaleBytes];
  // Elements 64c..64c+31 are the low nibbles of qs[32c..32c+31], 64c+32..64c+63 the high.
  uint8_t qs[kSuperBlock / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kScaleBytes];
  // The fifth bit: element 64c+l (l < 32) in bit 2c of qh[l], 64c+32+l in bit 2c+1.
  uint8_t qh[kSuperBlock / 8];
  uint8_t qs[kSuperBlock / 2];  // the low 4 bits, as Q4_K's qs
};
static_assert(sizeof(BlockQ5_K) == 176);

struct BlockQ6_K {
  // Half h (elements 128h..128h+127), l < 32: ql[64h+l] holds elements 128h+l (low
  // nibble) and 128h+64+l (high); ql[64h+32+l] holds 128h+32+l and 128h+96+l. qh[32h+l]
  // holds the top 2 bits of 128h+l, +32, +64, +96 in bits 0-1, 2-3, 4-5, 6-7.
  uint8_t ql[kSuperBlock / 2];
  uint8_t qh[kSuperBlock / 4];
  int8_t scales[kSuperBlock / 16];  // one per 16 elements
  uint16_t d;                       // fp16
};
static_assert(sizeof(BlockQ6_K) == 210);

// Sub-block j's (scale, min) from the 12 packed bytes (j < 8).
inline void unpack_scale_min(const uint8_t* scales, int j, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = scales[j] & 63;
    *m = scales[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((scales[j + 4] & 15) | ((scales[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
  }
}

uint16_t fp32_to_bf16(float f);  // round to nearest even; NaN stays NaN (quiet)
inline float bf16_to_fp32(uint16_t h) {
  return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
}

// Rows of n elements (n % 256 == 0). The encoders search each sub-block's scale (and
// min) for the least squared error, then quantize the scales against the super-block's.
void quantize_row_q4_k(const float* x, BlockQ4_K* out, int64_t n);
void quantize_row_q5_k(const float* x, BlockQ5_K* out, int64_t n);
void quantize_row_q6_k(const float* x, BlockQ6_K* out, int64_t n);
void dequantize_row_q4_k(const BlockQ4_K* in, float* out, int64_t n);
void dequantize_row_q5_k(const BlockQ5_K* in, float* out, int64_t n);
void dequantize_row_q6_k(const BlockQ6_K* in, float* out, int64_t n);

}  // namespace llmops::engine
