// The architectures llmops-runtime runs and how each differs from Llama, as llama.cpp reads
// them from GGUF (general.architecture; metadata keys "<arch>.*"; tensor names):
//
//   llama   Llama 2/3.x, Mistral, SmolLM, TinyLlama: RoPE on adjacent pairs, rope base
//           from the file, optional rope_freqs (Llama 3.1+ frequency divisors).
//   qwen2   Q/K/V biases; RoPE on halves.
//   qwen3   per-head RMSNorm of Q and K before RoPE; head size from the file; RoPE on halves.
//   gemma3  embeddings scaled by √dim, GELU (tanh) gate, Q/K norms, norms after attention
//           and after the feed-forward, sliding-window layers (5 of every 6) with RoPE
//           base 10000; RoPE on halves.
#pragma once

#include <string>
#include <string_view>

#include "model.h"

namespace llmops::engine {

struct ArchSpec {
  std::string_view name;
  RopeStyle rope_style;
  Activation activation;
  bool qkv_bias;         // attn_{q,k,v}.bias required (llama: loaded when present)
  bool qk_norm;          // attn_{q,k}_norm.weight required
  bool post_norms;       // post_attention_norm / post_ffw_norm required
  bool scale_embedding;  // token embeddings × √dim
  bool sliding_window;   // <arch>.attention.sliding_window, every 6th layer global
  float default_rms_eps;
};

// The spec of `name`, or nullptr.
const ArchSpec* find_arch(std::string_view name);
// "llama, qwen2, qwen3, gemma3"
std::string supported_archs();

// Sets the architecture-dependent fields of `c` (rope style, activation, embedding
// scale, sliding window pattern, attention scale) from the spec and c's shape.
void apply_arch(const ArchSpec& spec, ModelConfig& c);

}  // namespace llmops::engine
