// Keys and values of one sequence for every layer and position up to its capacity.
#pragma once

#include <cstddef>
#include <vector>

#include "model.h"

namespace llmops::engine {

class KvCache {
 public:
  KvCache(const ModelConfig& config, int capacity);

  int capacity() const { return capacity_; }
  float* key(int layer, int pos) { return keys_.data() + offset(layer, pos); }
  float* value(int layer, int pos) { return values_.data() + offset(layer, pos); }
  const float* key(int layer, int pos) const { return keys_.data() + offset(layer, pos); }
  const float* value(int layer, int pos) const { return values_.data() + offset(layer, pos); }
  // Floats between consecutive positions of one layer (keys and values alike).
  int64_t position_stride() const { return kv_dim_; }
  size_t size_bytes() const { return (keys_.size() + values_.size()) * sizeof(float); }

 private:
  size_t offset(int layer, int pos) const {
    return (static_cast<size_t>(layer) * capacity_ + pos) * kv_dim_;
  }
  int capacity_;
  int kv_dim_;
  std::vector<float> keys_;
  std::vector<float> values_;
};

}  // namespace llmops::engine
