// Picks the next token from logits: greedy, or temperature with top-k and top-p, from a
// seeded generator so that the same seed gives the same output.
#pragma once

#include <cstdint>
#include <vector>

namespace llmops::engine {

struct SamplingOptions {
  float temperature = 0.0f;  // 0 = greedy (argmax; the first of equal maxima)
  float top_p = 1.0f;        // nucleus: smallest set whose probability reaches top_p
  int top_k = 0;             // 0 = no limit
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& options);  // validates the options

  int32_t sample(const float* logits, int n);

 private:
  float next_uniform();  // [0, 1)

  SamplingOptions options_;
  uint64_t state_;
  std::vector<std::pair<float, int32_t>> candidates_;
};

int32_t argmax(const float* values, int n);

}  // namespace llmops::engine
