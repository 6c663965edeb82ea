#include "kv_cache.h"

#include <stdexcept>
#include <string>

namespace llmops::engine {

KvCache::KvCache(const ModelConfig& config, int capacity)
    : capacity_(capacity), kv_dim_(config.kv_dim()) {
  if (capacity <= 0 || capacity > config.context_length) {
    throw std::invalid_argument("KV cache capacity " + std::to_string(capacity) +
                                " must be in 1.." + std::to_string(config.context_length));
  }
  const size_t n = static_cast<size_t>(config.n_layers) * capacity * kv_dim_;
  keys_.assign(n, 0.0f);
  values_.assign(n, 0.0f);
}

}  // namespace llmops::engine
