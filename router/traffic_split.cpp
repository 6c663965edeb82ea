#include "router/traffic_split.h"

#include <algorithm>

namespace llmops::router {

void TrafficSplit::set_weights(std::vector<std::pair<int, int>> weights) {
  std::sort(weights.begin(), weights.end());
  std::lock_guard lock(mutex_);
  bool same = weights.size() == slots_.size();
  for (std::size_t i = 0; same && i < weights.size(); ++i) {
    same = slots_[i].revision == weights[i].first && slots_[i].weight == weights[i].second;
  }
  if (same) return;
  slots_.clear();
  for (const auto& [revision, weight] : weights) slots_.push_back({revision, weight, 0});
}

std::optional<int> TrafficSplit::next(const Eligible& eligible) {
  std::lock_guard lock(mutex_);
  int64_t total = 0;
  Slot* best = nullptr;
  for (auto& slot : slots_) {
    if (slot.weight <= 0 || !eligible(slot.revision)) continue;
    slot.current += slot.weight;
    total += slot.weight;
    if (!best || slot.current > best->current) best = &slot;
  }
  if (!best) return std::nullopt;
  best->current -= total;
  return best->revision;
}

double TrafficSplit::session_point(std::string_view session) {
  // FNV-1a, then a 64-bit finaliser (splitmix64) so that similar ids spread evenly.
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : session) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  hash ^= hash >> 30;
  hash *= 0xbf58476d1ce4e5b9ull;
  hash ^= hash >> 27;
  hash *= 0x94d049bb133111ebull;
  hash ^= hash >> 31;
  return static_cast<double>(hash >> 11) / static_cast<double>(1ull << 53);
}

std::optional<int> TrafficSplit::for_session(std::string_view session, const Eligible& eligible) {
  std::optional<int> chosen;
  {
    std::lock_guard lock(mutex_);
    int64_t total = 0;
    for (const auto& slot : slots_) total += std::max(slot.weight, 0);
    if (total > 0) {
      const double point = session_point(session) * static_cast<double>(total);
      int64_t cumulative = 0;
      for (const auto& slot : slots_) {
        cumulative += std::max(slot.weight, 0);
        if (point < static_cast<double>(cumulative)) {
          chosen = slot.revision;
          break;
        }
      }
    }
  }
  if (chosen && eligible(*chosen)) return chosen;
  return next(eligible);
}

}  // namespace llmops::router
