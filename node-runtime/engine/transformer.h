// The Llama forward pass: RMSNorm, RoPE on adjacent pairs, grouped-query attention over
// a KV cache, SwiGLU feed-forward, classifier. A Transformer holds scratch buffers;
// sequences own their KvCache, so many sequences share one set of weights.
//
// forward_batch() runs several tokens, from one or many sequences, through the layers
// together: each weight matrix is read once per step for all of them (continuous
// batching and chunked prefill). Every token's result is bit-identical to running it
// alone: batching never changes outputs.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kv_cache.h"
#include "model.h"

namespace llmops::engine {

class ThreadPool;

struct BatchToken {
  KvCache* cache = nullptr;  // the sequence this token belongs to
  int32_t token = 0;
  int pos = 0;               // positions 0..pos-1 of this sequence are in the cache or
                             // earlier in the same batch
  bool want_logits = false;  // compute the classifier for this token
};

class Transformer {
 public:
  // `pool` (optional, not owned) runs the matrix products on several threads.
  explicit Transformer(const Model& model, ThreadPool* pool = nullptr);

  // Feeds `token` at position `pos` of the sequence whose cache is `cache`. Returns the
  // vocab_size logits for the next token, valid until the next call.
  const float* forward(KvCache& cache, int32_t token, int pos);

  // Runs a batch. Tokens of one sequence must appear in increasing, contiguous
  // positions. Returns the logits of the tokens with want_logits, in batch order
  // (vocab_size floats each), valid until the next call.
  std::span<const float> forward_batch(std::span<const BatchToken> batch);

  const ModelConfig& config() const { return model_.config; }
  const Model& model() const { return model_; }

 private:
  void reserve(size_t n_tokens, size_t n_logits);
  void attention(const BatchToken& t, int layer, const float* q, float* out);

  const Model& model_;
  ThreadPool* pool_;
  size_t capacity_ = 0;  // tokens the scratch buffers hold
  std::vector<float> x_, xb_, xb2_, hb_, hb2_, q_, k_, v_, att_, logits_, final_;
  std::vector<float> rope_freqs_;  // per rotated pair within a head
};

}  // namespace llmops::engine
