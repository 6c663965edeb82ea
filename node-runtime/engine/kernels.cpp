#include "kernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "kernels_variants.h"
#include "quant.h"
#include "thread_pool.h"

namespace llmops::engine {

std::string_view kernel_variant_name(KernelVariant variant) {
  switch (variant) {
    case KernelVariant::Scalar:
      return "scalar";
    case KernelVariant::Avx2:
      return "avx2";
    case KernelVariant::Avx512:
      return "avx512";
  }
  return "scalar";
}

KernelVariant parse_kernel_variant(std::string_view name) {
  for (auto v : {KernelVariant::Scalar, KernelVariant::Avx2, KernelVariant::Avx512}) {
    if (kernel_variant_name(v) == name) return v;
  }
  throw std::invalid_argument("unknown kernel variant '" + std::string(name) +
                              "' (expected scalar, avx2 or avx512)");
}

namespace {

#if defined(__x86_64__)
// F16C (CPUID leaf 1 ECX bit 29) and AVX-512 VNNI (leaf 7 ECX bit 11), which clang 14's
// __builtin_cpu_supports does not name. OS-enabled AVX state is checked by the builtins
// for avx2 and avx512f.
bool has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  return (ecx >> 29) & 1u;
}

bool has_avx512_vnni() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  return (ecx >> 11) & 1u;
}
#endif

}  // namespace

bool kernel_variant_supported(KernelVariant variant) {
#if defined(__x86_64__)
  switch (variant) {
    case KernelVariant::Scalar:
      return true;
    case KernelVariant::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
    case KernelVariant::Avx512:
      return kernel_variant_supported(KernelVariant::Avx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             has_avx512_vnni();
  }
  return false;
#else
  return variant == KernelVariant::Scalar;
#endif
}

KernelVariant default_kernel_variant() {
  if (const char* forced = std::getenv("LLMOPS_KERNELS"); forced && *forced) {
    const KernelVariant v = parse_kernel_variant(forced);
    if (!kernel_variant_supported(v)) {
      throw std::invalid_argument("LLMOPS_KERNELS=" + std::string(forced) +
                                  ": this CPU cannot run that variant");
    }
    return v;
  }
  for (auto v : {KernelVariant::Avx512, KernelVariant::Avx2}) {
    if (kernel_variant_supported(v)) return v;
  }
  return KernelVariant::Scalar;
}

namespace {

std::atomic<KernelVariant>& current_variant() {
  static std::atomic<KernelVariant> variant{default_kernel_variant()};
  return variant;
}

kernels::RowsKernel rows_kernel(KernelVariant variant) {
  switch (variant) {
    case KernelVariant::Avx2:
      return kernels::rows_avx2;
    case KernelVariant::Avx512:
      return kernels::rows_avx512;
    case KernelVariant::Scalar:
      break;
  }
  return kernels::rows_scalar;
}

// Bigger products are worth splitting across threads; tiny ones are not.
constexpr int64_t kMinWorkPerThread = 16 * 1024;

}  // namespace

void set_kernel_variant(KernelVariant variant) {
  if (!kernel_variant_supported(variant)) {
    throw std::invalid_argument("this CPU cannot run the " +
                                std::string(kernel_variant_name(variant)) + " kernels");
  }
  current_variant().store(variant);
}

KernelVariant kernel_variant() {
  return current_variant().load();
}

namespace kernels {

void quantize_scalar(const float* x, int64_t n, int8_t* qs, float* d) {
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    float amax = 0.0f;
    for (int j = 0; j < kQuantBlock; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float scale = amax / 127.0f;
    const float inverse = scale != 0.0f ? 1.0f / scale : 0.0f;
    d[b] = scale;
    for (int j = 0; j < kQuantBlock; ++j) {
      qs[b * kQuantBlock + j] = static_cast<int8_t>(std::nearbyint(xb[j] * inverse));
    }
  }
}

namespace {

float dot_f32(const float* w, const float* x, int64_t n) {
  float sum = 0.0f;
  for (int64_t j = 0; j < n; ++j) sum += w[j] * x[j];
  return sum;
}

float dot_f16(const uint16_t* w, const float* x, int64_t n) {
  float sum = 0.0f;
  for (int64_t j = 0; j < n; ++j) sum += fp16_to_fp32(w[j]) * x[j];
  return sum;
}

float dot_q8_0(const BlockQ8_0* w, const float* x, int64_t n) {
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    float block = 0.0f;
    for (int j = 0; j < kQuantBlock; ++j) block += static_cast<float>(w[b].qs[j]) * xb[j];
    sum += fp16_to_fp32(w[b].d) * block;
  }
  return sum;
}

float dot_q4_0(const BlockQ4_0* w, const float* x, int64_t n) {
  constexpr int kHalf = kQuantBlock / 2;
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    float block = 0.0f;
    for (int j = 0; j < kHalf; ++j) {
      block += static_cast<float>((w[b].qs[j] & 0x0f) - 8) * xb[j];
      block += static_cast<float>((w[b].qs[j] >> 4) - 8) * xb[j + kHalf];
    }
    sum += fp16_to_fp32(w[b].d) * block;
  }
  return sum;
}

}  // namespace

// The reference: float inputs for every type (no input quantization).
void rows_scalar(const TensorView& w, const float* x, const QuantizedInputs& xq, int64_t n,
                 float* y, int64_t r0, int64_t r1) {
  if (is_kquant(w.type) || w.type == TensorType::BF16) {
    rows_kquants_scalar(w, x, xq, n, y, r0, r1);
    return;
  }
  const int64_t cols = w.cols;
  for (int64_t r = r0; r < r1; ++r) {
    const void* row = w.row(r);
    for (int64_t i = 0; i < n; ++i) {
      const float* xi = x + i * cols;
      float& out = y[i * w.rows + r];
      switch (w.type) {
        case TensorType::F32:
          out = dot_f32(static_cast<const float*>(row), xi, cols);
          break;
        case TensorType::F16:
          out = dot_f16(static_cast<const uint16_t*>(row), xi, cols);
          break;
        case TensorType::Q8_0:
          out = dot_q8_0(static_cast<const BlockQ8_0*>(row), xi, cols);
          break;
        case TensorType::Q4_0:
          out = dot_q4_0(static_cast<const BlockQ4_0*>(row), xi, cols);
          break;
        case TensorType::BF16:
        case TensorType::Q4_K:
        case TensorType::Q5_K:
        case TensorType::Q6_K:
          break;  // rows_kquants_scalar
      }
    }
  }
}

// In 8 interleaved partial sums (not element order: llama2.c's sum is not bit-exact here
// either), as plain code the compiler vectorizes without reordering anything itself.
void scores_scalar(const float* q, const float* keys, int64_t stride, int positions, int head_size,
                   float* att) {
  constexpr int kLanes = 8;
  const float sqrt_head = std::sqrt(static_cast<float>(head_size));
  for (int p = 0; p < positions; ++p) {
    const float* k = keys + p * stride;
    float lanes[kLanes] = {};
    int i = 0;
    for (; i + kLanes <= head_size; i += kLanes) {
      for (int l = 0; l < kLanes; ++l) lanes[l] += q[i + l] * k[i + l];
    }
    float sum = 0.0f;
    for (int l = 0; l < kLanes; ++l) sum += lanes[l];
    for (; i < head_size; ++i) sum += q[i] * k[i];
    att[p] = sum / sqrt_head;
  }
}

void mix_scalar(const float* att, const float* values, int64_t stride, int positions, int head_size,
                float* out) {
  std::fill(out, out + head_size, 0.0f);
  for (int p = 0; p < positions; ++p) {
    const float* v = values + p * stride;
    const float a = att[p];
    for (int i = 0; i < head_size; ++i) out[i] += a * v[i];
  }
}

}  // namespace kernels

namespace {

void softmax(float* x, int n) {
  float max = x[0];
  for (int i = 1; i < n; ++i) max = std::max(max, x[i]);
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  for (int i = 0; i < n; ++i) x[i] /= sum;
}

// n inputs quantized once for one weight type and width, shared by every thread (SIMD
// variants only; thread-local buffers, valid until the next call on this thread).
kernels::QuantizedInputs quantize_inputs(KernelVariant variant, TensorType type, int64_t cols,
                                         const float* x, int64_t n) {
  thread_local std::vector<int8_t> quantized;
  thread_local std::vector<float> scales;
  thread_local std::vector<int32_t> bias;
  thread_local std::vector<kernels::InputPair> pairs;
  kernels::QuantizedInputs xq;
  if (variant == KernelVariant::Scalar || !is_quantized(type)) return xq;
  if (is_kquant(type)) return kernels::quantize_kquant_inputs(x, n, cols);
  const int64_t blocks = cols / kQuantBlock;
  quantized.resize(static_cast<size_t>(cols * n));
  scales.resize(static_cast<size_t>(blocks * n));
  for (int64_t i = 0; i < n; ++i) {
    kernels::quantize_avx2(x + i * cols, cols, quantized.data() + i * cols,
                           scales.data() + i * blocks);
  }
  xq.qs = quantized.data();
  xq.d = scales.data();
  if (variant == KernelVariant::Avx2 && type == TensorType::Q4_0) {
    bias.resize(static_cast<size_t>(blocks * n));
    for (int64_t i = 0; i < n; ++i) {
      kernels::q4_bias_avx2(quantized.data() + i * cols, cols, bias.data() + i * blocks);
    }
    xq.q4_bias = bias.data();
  }
  if (variant == KernelVariant::Avx512) {
    const int64_t per_input = (blocks + 1) / 2;
    pairs.resize(static_cast<size_t>(per_input * n));
    const int offset = type == TensorType::Q8_0 ? 128 : 8;
    for (int64_t i = 0; i < n; ++i) {
      kernels::expand_pairs_avx512(quantized.data() + i * cols, scales.data() + i * blocks, blocks,
                                   offset, pairs.data() + i * per_input);
    }
    xq.pairs = pairs.data();
  }
  return xq;
}

// A run of row tiles of one of the matrices.
struct RowRun {
  size_t matrix;
  int64_t r0, r1;
};

}  // namespace

void matmul(const TensorView& w, const float* x, int64_t n, float* y, ThreadPool* pool) {
  const TensorView* ws[] = {&w};
  float* ys[] = {y};
  matmul_many(ws, x, n, ys, pool);
}

void matmul_many(std::span<const TensorView* const> ws, const float* x, int64_t n,
                 std::span<float* const> ys, ThreadPool* pool) {
  if (ws.size() != ys.size()) {
    throw std::invalid_argument("matmul_many: " + std::to_string(ws.size()) + " matrices but " +
                                std::to_string(ys.size()) + " outputs");
  }
  if (ws.empty()) return;
  const TensorView& first = *ws.front();
  int64_t work = 0;
  for (const TensorView* w : ws) {
    if (!is_supported_type(static_cast<uint32_t>(w->type))) {
      throw std::invalid_argument("matmul: tensor " + w->name + " has an unsupported type");
    }
    if (w->cols != first.cols || w->type != first.type) {
      throw std::invalid_argument(
          "matmul_many: tensor " + w->name + " (" + std::string(type_name(w->type)) + ", " +
          std::to_string(w->cols) + " columns) does not match " + first.name + " (" +
          std::string(type_name(first.type)) + ", " + std::to_string(first.cols) + " columns)");
    }
    work += w->rows * w->cols * n;
  }
  if (n <= 0) return;
  const KernelVariant variant = kernel_variant();
  const kernels::RowsKernel rows = rows_kernel(variant);
  const kernels::QuantizedInputs xq = quantize_inputs(variant, first.type, first.cols, x, n);
  if (pool == nullptr || pool->size() == 1 || work < kMinWorkPerThread) {
    for (size_t k = 0; k < ws.size(); ++k) rows(*ws[k], x, xq, n, ys[k], 0, ws[k]->rows);
    return;
  }
  // Threads take runs of whole row tiles from a shared counter: each streams its own rows
  // once for all n inputs, and a thread the OS delays leaves its share to the others
  // instead of holding everyone up.
  constexpr int64_t split = kernels::kRowSplit;
  int64_t groups = 0;
  for (const TensorView* w : ws) groups += (w->rows + split - 1) / split;
  const int64_t grain = std::max<int64_t>(1, groups / (8 * pool->size())) * split;
  thread_local std::vector<RowRun> runs;
  runs.clear();
  for (size_t k = 0; k < ws.size(); ++k) {
    for (int64_t r = 0; r < ws[k]->rows; r += grain) {
      runs.push_back({k, r, std::min(ws[k]->rows, r + grain)});
    }
  }
  const std::vector<RowRun>& todo = runs;
  std::atomic<size_t> next{0};
  pool->parallel_for(pool->size(), [&](int64_t, int64_t) {
    for (size_t i = next.fetch_add(1); i < todo.size(); i = next.fetch_add(1)) {
      const RowRun& run = todo[i];
      rows(*ws[run.matrix], x, xq, n, ys[run.matrix], run.r0, run.r1);
    }
  });
}

void attention_head(const float* q, const float* keys, const float* values, int64_t stride,
                    int positions, int head_size, float* att, float* out) {
  if (positions < 1) throw std::invalid_argument("attention over no positions");
  switch (kernel_variant()) {
    case KernelVariant::Avx512:
      kernels::scores_avx512(q, keys, stride, positions, head_size, att);
      softmax(att, positions);
      kernels::mix_avx512(att, values, stride, positions, head_size, out);
      return;
    case KernelVariant::Avx2:
      kernels::scores_avx2(q, keys, stride, positions, head_size, att);
      softmax(att, positions);
      kernels::mix_avx2(att, values, stride, positions, head_size, out);
      return;
    case KernelVariant::Scalar:
      break;
  }
  kernels::scores_scalar(q, keys, stride, positions, head_size, att);
  softmax(att, positions);
  kernels::mix_scalar(att, values, stride, positions, head_size, out);
}

void get_row(const TensorView& w, int64_t r, float* out) {
  if (r < 0 || r >= w.rows) {
    throw std::out_of_range("row " + std::to_string(r) + " out of range for tensor " + w.name +
                            " with " + std::to_string(w.rows) + " rows");
  }
  dequantize_row(w.type, w.row(r), out, w.cols);
}

}  // namespace llmops::engine
