// Internal: the per-variant kernels behind matmul and attention_head (kernels.cpp). Each
// variant lives in its own file compiled for its instruction set.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "tensor.h"

namespace llmops::engine::kernels {

// AVX-512 only: one input's pair of 32-value blocks (a lone last block pairs with zeros)
// laid out as the kernel consumes it, so that each input is one stream.
struct alignas(64) InputPair {
  int8_t qs[64];     // the two blocks' values
  int32_t bias[16];  // −offset × the sum of each int32 lane's 4 values (see kernels_avx512.cpp)
  float d[16];       // lanes 0-7 the first block's scale, 8-15 the second's
};
static_assert(sizeof(InputPair) == 192);

// n inputs quantized for integer dot products with Q8_0 / Q4_0 weights: per 32 values,
// a float scale (max |x| / 127) and the rounded int8 values (AVX2 reads these), and the
// same as InputPairs (AVX-512 reads those).
// For K-quant weights (kernels_kquants.cpp) `sums` also holds the sum of each 16
// consecutive values of qs.
struct QuantizedInputs {
  const int8_t* qs = nullptr;        // input i: qs + i * cols
  const float* d = nullptr;          // input i: d + i * blocks
  const int32_t* q4_bias = nullptr;  // AVX2, Q4_0: 8 × Σ of each block's values, as d
  const InputPair* pairs = nullptr;  // AVX-512: input i: pairs + i * ((blocks + 1) / 2)
  const int16_t* sums = nullptr;     // K-quants: input i: sums + i * (cols / 16)
};

// 8 × Σ of each 32-value block of one quantized input (n % 32 == 0): what Q4_0's offset
// of 8 adds to a block's dot product with unsigned nibbles.
void q4_bias_avx2(const int8_t* qs, int64_t n, int32_t* bias);

// Fills the (blocks + 1) / 2 pairs of one input for weights stored as unsigned value +
// offset (128 for Q8_0, 8 for Q4_0).
void expand_pairs_avx512(const int8_t* qs, const float* d, int64_t blocks, int offset,
                         InputPair* pairs);

// Quantizes one input of `n` floats (n % 32 == 0). Both round the same way (to nearest
// even of x · (1 / d)), so they produce identical bytes; the SIMD variants use the AVX2 one.
void quantize_scalar(const float* x, int64_t n, int8_t* qs, float* d);
void quantize_avx2(const float* x, int64_t n, int8_t* qs, float* d);

// Computes y[i * w.rows + r] for r in [r0, r1) and every input i < n. `xq` holds the n
// inputs quantized when w is Q8_0 or Q4_0 (SIMD variants), else it is empty.
//
// Each output accumulates in one fixed order whatever n, r0 and r1 are: the kernels tile
// rows × inputs so that a weight block loaded once serves several inputs, but every
// output keeps its own accumulator and the same sequence of operations as the product
// with a single input. That is what keeps batching bit-identical.
using RowsKernel = void (*)(const TensorView& w, const float* x, const QuantizedInputs& xq,
                            int64_t n, float* y, int64_t r0, int64_t r1);

void rows_scalar(const TensorView& w, const float* x, const QuantizedInputs& xq, int64_t n,
                 float* y, int64_t r0, int64_t r1);
void rows_avx2(const TensorView& w, const float* x, const QuantizedInputs& xq, int64_t n, float* y,
               int64_t r0, int64_t r1);
void rows_avx512(const TensorView& w, const float* x, const QuantizedInputs& xq, int64_t n,
                 float* y, int64_t r0, int64_t r1);

// K-quant (Q4_K, Q5_K, Q6_K) and BF16 weights: the same contract as the RowsKernels
// above (kernels_kquants*.cpp). SIMD variants read inputs from quantize_kquant_inputs.
void rows_kquants_scalar(const TensorView& w, const float* x, const QuantizedInputs& xq, int64_t n,
                         float* y, int64_t r0, int64_t r1);
void rows_kquants_avx2(const TensorView& w, const float* x, const QuantizedInputs& xq, int64_t n,
                       float* y, int64_t r0, int64_t r1);
void rows_kquants_avx512(const TensorView& w, const float* x, const QuantizedInputs& xq, int64_t n,
                         float* y, int64_t r0, int64_t r1);
// n inputs of `cols` floats (cols % 256 == 0) quantized as quantize_scalar does, with the
// sums of each 16 values; thread-local buffers, valid until the next call on this thread.
QuantizedInputs quantize_kquant_inputs(const float* x, int64_t n, int64_t cols);

// The two halves of attention_head around its (shared, scalar) softmax:
// scores: att[p] = (q·k_p) / √head_size; mix: out = Σ_p att[p] v_p.
void scores_scalar(const float* q, const float* keys, int64_t stride, int positions, int head_size,
                   float* att);
void scores_avx2(const float* q, const float* keys, int64_t stride, int positions, int head_size,
                 float* att);
void scores_avx512(const float* q, const float* keys, int64_t stride, int positions, int head_size,
                   float* att);
void mix_scalar(const float* att, const float* values, int64_t stride, int positions, int head_size,
                float* out);
void mix_avx2(const float* att, const float* values, int64_t stride, int positions, int head_size,
              float* out);
void mix_avx512(const float* att, const float* values, int64_t stride, int positions, int head_size,
                float* out);

// matmul splits rows across threads in multiples of this, a multiple of every tile's
// rows, so that no thread gets a ragged tile in the middle of the matrix.
inline constexpr int64_t kRowSplit = 8;

// Runs Tile::run<R, T>(r, i) over rows [r0, r1) × inputs [0, n) in tiles of at most
// kRows × kTokens (kRowsAlone × 1 when n == 1), with smaller instantiations at the edges.
// Rows go in blocks of up to Tile::kBlockBytes of weights (Tile::begin_rows(rb, re) is
// told of each): every input tile meets a whole block in turn, so each weight row comes
// from memory once and, with blocks sized for L2, an input tile stays in L1 across the
// block. That pays where inputs are as big as weights (F32 / F16); 8-bit tiles keep
// blocks of one tile (kBlockBytes 0).
template <class Tile>
class TileLoop {
 public:
  // Rows per block for n inputs and rows of `row_bytes` bytes: whole tiles.
  static int64_t block_rows(int64_t n, size_t row_bytes) {
    const int64_t unit = n == 1 ? Tile::kRowsAlone : Tile::kRows;
    const auto fit = static_cast<int64_t>(Tile::kBlockBytes / std::max<size_t>(row_bytes, 1));
    return std::max<int64_t>(unit, fit / unit * unit);
  }

  static void run(const Tile& tile, int64_t n, int64_t r0, int64_t r1, size_t row_bytes) {
    const int64_t block = block_rows(n, row_bytes);
    for (int64_t rb = r0; rb < r1; rb += block) {
      const int64_t re = std::min(r1, rb + block);
      tile.begin_rows(rb, re);
      if (n == 1) {
        constexpr auto table = make_table<Tile::kRowsAlone, 1>();
        for (int64_t r = rb; r < re; r += Tile::kRowsAlone) {
          const auto rows = static_cast<int>(std::min<int64_t>(Tile::kRowsAlone, re - r));
          (tile.*table[rows - 1][0])(r, 0);
        }
        continue;
      }
      constexpr auto table = make_table<Tile::kRows, Tile::kTokens>();
      for (int64_t i = 0; i < n; i += Tile::kTokens) {
        const auto tokens = static_cast<int>(std::min<int64_t>(Tile::kTokens, n - i));
        for (int64_t r = rb; r < re; r += Tile::kRows) {
          const auto rows = static_cast<int>(std::min<int64_t>(Tile::kRows, re - r));
          (tile.*table[rows - 1][tokens - 1])(r, i);
        }
      }
    }
  }

 private:
  using Fn = void (Tile::*)(int64_t, int64_t) const;

  template <int R, int T>
  static constexpr std::array<std::array<Fn, T>, R> make_table() {
    std::array<std::array<Fn, T>, R> table{};
    fill<R, T>(table, std::make_integer_sequence<int, R * T>{});
    return table;
  }
  template <int R, int T, int... K>
  static constexpr void fill(std::array<std::array<Fn, T>, R>& table,
                             std::integer_sequence<int, K...>) {
    ((table[K / T][K % T] = &Tile::template run<K / T + 1, K % T + 1>), ...);
  }
};

}  // namespace llmops::engine::kernels
