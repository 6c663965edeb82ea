// Scalar encodings of the tensor types: fp16 conversion and Q8_0 / Q4_0 blocks as ggml
// defines them (see ../shared/notes/runtime.md). The reference every kernel tests against.
#pragma once

#include <cstdint>

#include "tensor.h"

namespace llmops::engine {

uint16_t fp32_to_fp16(float f);  // round to nearest even; overflow to inf; NaN kept
float fp16_to_fp32(uint16_t h);

struct BlockQ8_0 {
  uint16_t d;  // fp16 scale
  int8_t qs[kQuantBlock];
};
static_assert(sizeof(BlockQ8_0) == 34);

struct BlockQ4_0 {
  uint16_t d;                   // fp16 scale
  uint8_t qs[kQuantBlock / 2];  // element j: low nibble of qs[j]; j+16: high nibble
};
static_assert(sizeof(BlockQ4_0) == 18);

// Encode `n` floats into `type` (n a multiple of block_elements(type)). `out` holds
// row_bytes(type, n) bytes. K-quants and BF16: kquants.h.
void quantize_row(TensorType type, const float* x, void* out, int64_t n);
// quantize_row over `rows` rows of `cols` floats (row-major), split across the machine's
// hardware threads when there is enough work (the K-quant encoders search per block).
void quantize_rows(TensorType type, const float* x, void* out, int64_t rows, int64_t cols);
// Decode `n` elements of a row in `type` into floats.
void dequantize_row(TensorType type, const void* in, float* out, int64_t n);

}  // namespace llmops::engine
