#include "model_arch.h"

#include <cmath>

namespace llmops::engine {

namespace {

constexpr ArchSpec kArchs[] = {
    {"llama", RopeStyle::AdjacentPairs, Activation::Silu, false, false, false, false, false, 1e-5f},
    {"qwen2", RopeStyle::Halves, Activation::Silu, true, false, false, false, false, 1e-6f},
    {"qwen3", RopeStyle::Halves, Activation::Silu, false, true, false, false, false, 1e-6f},
    {"gemma3", RopeStyle::Halves, Activation::GeluTanh, false, true, true, true, true, 1e-6f},
};

// Gemma 3: five sliding-window layers, then a global one (llama.cpp's swa pattern 6).
constexpr int kGemma3SlidingPattern = 6;
constexpr int kGemma3Layers27B = 62;

}  // namespace

const ArchSpec* find_arch(std::string_view name) {
  for (const ArchSpec& a : kArchs) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::string supported_archs() {
  std::string out;
  for (const ArchSpec& a : kArchs) {
    if (!out.empty()) out += ", ";
    out += a.name;
  }
  return out;
}

void apply_arch(const ArchSpec& spec, ModelConfig& c) {
  c.arch = std::string(spec.name);
  c.rope_style = spec.rope_style;
  c.activation = spec.activation;
  c.embedding_scale = spec.scale_embedding ? std::sqrt(static_cast<float>(c.dim)) : 1.0f;
  if (spec.sliding_window) {
    c.sliding_window_pattern = kGemma3SlidingPattern;
    c.rope_theta_sliding = 10000.0f;
    // Gemma 3 27B scales queries by 1/√(dim / heads) (query_pre_attn_scalar), the others
    // by 1/√head_size; llama.cpp tells them apart by the layer count.
    if (c.n_layers == kGemma3Layers27B) {
      c.attention_scale = 1.0f / std::sqrt(static_cast<float>(c.dim / c.n_heads));
    }
  }
}

}  // namespace llmops::engine
