// The Llama forward pass: RMSNorm, RoPE on adjacent pairs, grouped-query attention over
// a KV cache, SwiGLU feed-forward, classifier. One Transformer holds scratch buffers for
// one token at a time; sequences own their KvCache so several can share the weights.
#pragma once

#include <cstdint>
#include <vector>

#include "kv_cache.h"
#include "model.h"

namespace llmops::engine {

class Transformer {
 public:
  explicit Transformer(const Model& model);

  // Feeds `token` at position `pos` of the sequence whose cache is `cache` (positions
  // 0..pos-1 must already be in it). Returns the vocab_size logits for the next token,
  // valid until the next call.
  const float* forward(KvCache& cache, int32_t token, int pos);

  const ModelConfig& config() const { return model_.config; }
  const Model& model() const { return model_; }

 private:
  void attention(KvCache& cache, int layer, int pos);

  const Model& model_;
  std::vector<float> x_, xb_, xb2_, hb_, hb2_, q_, att_, logits_;
  std::vector<float> rope_freqs_;  // per rotated pair within a head
};

}  // namespace llmops::engine
