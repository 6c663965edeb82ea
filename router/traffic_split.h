// Chooses a revision for each request by weight. Smooth weighted round-robin (nginx's
// algorithm) makes the split exact over every window of sum(weights) requests instead of
// drifting like coin flips; sticky sessions hash to a point on [0, 1) laid out by revision
// number, so raising a canary's weight only ever moves sessions from older revisions to
// newer ones, never back and forth.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace llmops::router {

class TrafficSplit {
 public:
  using Eligible = std::function<bool(int revision)>;

  // (revision, weight) pairs; the round-robin state restarts when they change.
  void set_weights(std::vector<std::pair<int, int>> weights);

  // The next revision by smooth weighted round-robin among those with weight > 0 for
  // which `eligible` holds; nullopt when there is none.
  std::optional<int> next(const Eligible& eligible);

  // The revision a session belongs to under the current weights, if eligible; otherwise
  // the round-robin choice.
  std::optional<int> for_session(std::string_view session, const Eligible& eligible);

  // Where `session` falls on [0, 1), stable across processes and restarts.
  static double session_point(std::string_view session);

 private:
  struct Slot {
    int revision;
    int weight;
    int64_t current;
  };
  std::mutex mutex_;
  std::vector<Slot> slots_;  // ordered by revision
};

}  // namespace llmops::router
