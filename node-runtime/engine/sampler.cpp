#include "sampler.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace llmops::engine {

int32_t argmax(const float* values, int n) {
  int32_t best = 0;
  for (int i = 1; i < n; ++i) {
    if (values[i] > values[best]) best = i;
  }
  return best;
}

Sampler::Sampler(const SamplingOptions& options) : options_(options) {
  if (!(options.temperature >= 0.0f) || !std::isfinite(options.temperature)) {
    throw std::invalid_argument("temperature must be a finite number >= 0, got " +
                                std::to_string(options.temperature));
  }
  if (!(options.top_p > 0.0f && options.top_p <= 1.0f)) {
    throw std::invalid_argument("top_p must be in (0, 1], got " + std::to_string(options.top_p));
  }
  if (options.top_k < 0) {
    throw std::invalid_argument("top_k must be >= 0, got " + std::to_string(options.top_k));
  }
  // splitmix64 of the seed, so that seeds 0, 1, 2 start from unrelated states.
  uint64_t z = options.seed + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  state_ = (z ^ (z >> 31)) | 1u;
}

float Sampler::next_uniform() {
  // xorshift64*: small, fast and the same on every platform.
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  const uint64_t r = state_ * 0x2545f4914f6cdd1dull;
  return static_cast<float>(r >> 40) / 16777216.0f;  // 24 random bits
}

int32_t Sampler::sample(const float* logits, int n) {
  if (options_.temperature == 0.0f) return argmax(logits, n);

  // Softmax of logits / temperature, in double for a stable sum.
  const float max = logits[argmax(logits, n)];
  candidates_.clear();
  candidates_.reserve(n);
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    const float p = std::exp((logits[i] - max) / options_.temperature);
    candidates_.emplace_back(p, i);
    sum += p;
  }
  auto by_prob = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  size_t keep = candidates_.size();
  if (options_.top_k > 0 && static_cast<size_t>(options_.top_k) < keep) {
    keep = options_.top_k;
  }
  const bool nucleus = options_.top_p < 1.0f;
  if (keep < candidates_.size() || nucleus) {
    std::partial_sort(candidates_.begin(), candidates_.begin() + keep, candidates_.end(), by_prob);
    candidates_.resize(keep);
    sum = 0.0;
    for (const auto& c : candidates_) sum += c.first;
    if (nucleus) {
      double cumulative = 0.0;
      size_t cut = candidates_.size();
      for (size_t i = 0; i < candidates_.size(); ++i) {
        cumulative += candidates_[i].first;
        if (cumulative >= options_.top_p * sum) {
          cut = i + 1;
          break;
        }
      }
      candidates_.resize(cut);
      sum = cumulative;
    }
  }
  const double target = static_cast<double>(next_uniform()) * sum;
  double cumulative = 0.0;
  for (const auto& c : candidates_) {
    cumulative += c.first;
    if (target < cumulative) return c.second;
  }
  return candidates_.back().second;  // rounding at the very end of the range
}

}  // namespace llmops::engine
