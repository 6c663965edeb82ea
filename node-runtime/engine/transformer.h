// The forward pass of the Llama family: RMSNorm, RoPE, grouped-query attention over a KV
// cache, gated feed-forward, classifier; with the differences of Qwen 2/3 and Gemma 3
// (biases, Q/K norms, post-norms, GELU, embedding scale, sliding windows) applied where
// the model has them (model_arch.h). A Transformer holds scratch buffers;
// sequences own their KvCache, so many sequences share one set of weights.
//
// forward_batch() runs several tokens, from one or many sequences, through the layers
// together: each weight matrix is read once per step for all of them (continuous
// batching and chunked prefill). Every token's result is bit-identical to running it
// alone: batching never changes outputs.
#pragma once

#include <cstdint>
#include <functional>
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
  // Attention of every token of the batch (q: n × dim) into out (n × dim), heads and
  // tokens split across the pool's threads.
  void attention(std::span<const BatchToken> batch, int layer, const float* q, float* out);
  // fn(begin, end) over [0, n), on the pool when there is one and the work (about `work`
  // operations in all) is worth waking it.
  void parallel(int64_t n, int64_t work, const std::function<void(int64_t, int64_t)>& fn);

  const Model& model_;
  ThreadPool* pool_;
  size_t capacity_ = 0;  // tokens the scratch buffers hold
  std::vector<float> x_, xb_, xb2_, hb_, hb2_, q_, k_, v_, logits_, final_;
  std::vector<float> rope_freqs_;          // per rotated pair within a head
  std::vector<float> rope_freqs_sliding_;  // the same for sliding-window layers
  bool has_sliding_ = false;
  std::vector<float> rope_cos_, rope_sin_;  // per token of the batch and rotated pair
                                            // (then the sliding layers' when they differ)
};

}  // namespace llmops::engine
