// The compute kernels the forward pass calls: matrix products against weights in any
// supported type, attention of one head, and row lookup. Variants sit side by side — a
// scalar reference and AVX2 and AVX-512 (VNNI) versions chosen at run time by CPU
// feature detection — behind these functions. Every variant computes each output the
// same way whatever the batch size, so batching never changes results.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "tensor.h"

namespace llmops::engine {

class ThreadPool;

enum class KernelVariant { Scalar, Avx2, Avx512 };
std::string_view kernel_variant_name(KernelVariant variant);
// Parses "scalar", "avx2", "avx512"; throws std::invalid_argument otherwise.
KernelVariant parse_kernel_variant(std::string_view name);
bool kernel_variant_supported(KernelVariant variant);  // by this CPU
// The best supported variant, or the one named by the environment variable
// LLMOPS_KERNELS (scalar|avx2|avx512) when it is set and supported.
KernelVariant default_kernel_variant();
// The variant matmul uses (process-wide; default_kernel_variant() at start). Throws
// std::invalid_argument when this CPU cannot run it. For tests and benchmarks.
void set_kernel_variant(KernelVariant variant);
KernelVariant kernel_variant();

// y[i][r] = dot(w.row(r), x[i]) for n input vectors x (each w.cols floats) and outputs
// y (each w.rows floats): matrix-vector for n = 1 (decode), matrix-matrix for prefill and
// batched decode, where each weight row is read once for all n inputs. Rows are split
// across the pool's threads when one is given. The scalar variant accumulates in fp32 in
// element order (the reference); SIMD variants reorder sums (the same way for every n),
// and for Q8_0 / Q4_0 weights quantize the inputs once to 8 bits per 32-element block
// (integer dot products).
void matmul(const TensorView& w, const float* x, int64_t n, float* y, ThreadPool* pool = nullptr);
// matmul of several matrices of one type and width with the same inputs (e.g. Q, K and V):
// the inputs are quantized once and one pass of the pool covers every matrix; ys[k]
// receives n × ws[k]->rows outputs, each bit-identical to matmul(*ws[k], ...). Throws
// std::invalid_argument when the types or widths differ.
void matmul_many(std::span<const TensorView* const> ws, const float* x, int64_t n,
                 std::span<float* const> ys, ThreadPool* pool = nullptr);

// One query head's attention over `positions` cached keys and values (position p's at
// keys + p * stride, values + p * stride): out = Σ_p softmax_p(q·k_p / √head_size) v_p.
// `att` is scratch for `positions` floats. Vectorized by the current kernel variant; a
// query's result never depends on what else is computed with it.
void attention_head(const float* q, const float* keys, const float* values, int64_t stride,
                    int positions, int head_size, float* att, float* out);

// Decodes row `r` of `w` (e.g. a token embedding) into `out` (w.cols floats).
void get_row(const TensorView& w, int64_t r, float* out);

}  // namespace llmops::engine
