// Picks the pod for a request within a revision: the ready endpoint with the fewest
// outstanding requests (ties: the shortest queue the runtime last reported, then round
// robin), and ejects endpoints that fail repeatedly (connect errors, 5xx) for a cool-off
// that grows with each ejection, like Envoy's outlier detection. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "router/routing_table.h"

namespace llmops::router {

struct EjectionPolicy {
  int consecutive_failures = 3;  // failures in a row that eject an endpoint
  std::chrono::milliseconds base_ejection{std::chrono::seconds(5)};  // × ejections so far
  std::chrono::milliseconds max_ejection{std::chrono::seconds(60)};
};

class EndpointBalancer {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  explicit EndpointBalancer(EjectionPolicy policy = {}, Clock clock = nullptr);

  // The best ready endpoint not in `exclude`; ejected ones only when `allow_ejected`.
  std::optional<Endpoint> pick(const std::vector<Endpoint>& endpoints,
                               const std::set<std::string>& exclude, bool allow_ejected);
  // Whether pick(endpoints, exclude, false) would find one.
  bool has_usable(const std::vector<Endpoint>& endpoints, const std::set<std::string>& exclude);

  void request_started(const std::string& address);
  void request_finished(const std::string& address);
  // Counts a failure; true when it ejected the endpoint just now.
  bool report_failure(const std::string& address);
  // A success ends the failure streak; queue_depth is what the pod reported, if it did.
  void report_success(const std::string& address, std::optional<int> queue_depth);

  int outstanding(const std::string& address);
  bool ejected(const std::string& address);
  // Forgets endpoints that are gone and idle, so that state does not grow forever.
  void retain(const std::set<std::string>& addresses);

 private:
  struct State {
    int outstanding = 0;
    int queue_depth = -1;  // unknown
    int failures = 0;      // consecutive
    int ejections = 0;
    std::chrono::steady_clock::time_point ejected_until{};
    uint64_t last_pick = 0;
  };
  bool usable(const State& state, std::chrono::steady_clock::time_point now) const;

  EjectionPolicy policy_;
  Clock clock_;
  std::mutex mutex_;
  std::map<std::string, State> states_;
  uint64_t picks_ = 0;
};

}  // namespace llmops::router
