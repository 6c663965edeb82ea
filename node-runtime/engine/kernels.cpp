#include "kernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "kernels_variants.h"
#include "quant.h"
#include "thread_pool.h"

namespace llmops::engine {

using kernels::BlockQ8x;

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

void quantize_activations(const float* x, int64_t n, BlockQ8x* out) {
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    float amax = 0.0f;
    for (int j = 0; j < kQuantBlock; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = d;
    for (int j = 0; j < kQuantBlock; ++j) {
      out[b].qs[j] = static_cast<int8_t>(std::nearbyint(xb[j] * id));
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
void rows_scalar(const TensorView& w, const float* x, const BlockQ8x*, int64_t n, float* y,
                 int64_t r0, int64_t r1) {
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
      }
    }
  }
}

}  // namespace kernels

void matmul(const TensorView& w, const float* x, int64_t n, float* y, ThreadPool* pool) {
  if (!is_supported_type(static_cast<uint32_t>(w.type))) {
    throw std::invalid_argument("matmul: tensor " + w.name + " has an unsupported type");
  }
  const KernelVariant variant = kernel_variant();
  const kernels::RowsKernel rows = rows_kernel(variant);
  // Inputs quantized once per product, shared by every thread (SIMD variants only).
  thread_local std::vector<BlockQ8x> quantized;
  const BlockQ8x* xq = nullptr;
  if (variant != KernelVariant::Scalar && is_quantized(w.type)) {
    const int64_t blocks = w.cols / kQuantBlock;
    quantized.resize(static_cast<size_t>(blocks * n));
    for (int64_t i = 0; i < n; ++i) {
      kernels::quantize_activations(x + i * w.cols, w.cols, quantized.data() + i * blocks);
    }
    xq = quantized.data();
  }
  if (pool == nullptr || pool->size() == 1 || w.rows * w.cols * n < kMinWorkPerThread) {
    rows(w, x, xq, n, y, 0, w.rows);
    return;
  }
  pool->parallel_for(w.rows, [&](int64_t r0, int64_t r1) { rows(w, x, xq, n, y, r0, r1); });
}

void get_row(const TensorView& w, int64_t r, float* out) {
  if (r < 0 || r >= w.rows) {
    throw std::out_of_range("row " + std::to_string(r) + " out of range for tensor " + w.name +
                            " with " + std::to_string(w.rows) + " rows");
  }
  dequantize_row(w.type, w.row(r), out, w.cols);
}

}  // namespace llmops::engine
