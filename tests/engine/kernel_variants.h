// Test helpers: the kernel variants this CPU runs, and a scope that forces one.
#pragma once

#include <vector>

#include "engine/kernels.h"

namespace llmops::engine {

inline std::vector<KernelVariant> supported_variants() {
  std::vector<KernelVariant> out;
  for (auto v : {KernelVariant::Scalar, KernelVariant::Avx2, KernelVariant::Avx512}) {
    if (kernel_variant_supported(v)) out.push_back(v);
  }
  return out;
}

struct VariantScope {
  explicit VariantScope(KernelVariant v) : saved(kernel_variant()) { set_kernel_variant(v); }
  ~VariantScope() { set_kernel_variant(saved); }
  VariantScope(const VariantScope&) = delete;
  VariantScope& operator=(const VariantScope&) = delete;
  KernelVariant saved;
};

}  // namespace llmops::engine
