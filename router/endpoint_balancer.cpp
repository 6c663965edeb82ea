#include "router/endpoint_balancer.h"

#include <algorithm>
#include <tuple>

namespace llmops::router {

EndpointBalancer::EndpointBalancer(EjectionPolicy policy, Clock clock)
    : policy_(policy), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
}

bool EndpointBalancer::usable(const State& state, std::chrono::steady_clock::time_point now) const {
  return state.ejected_until <= now;
}

std::optional<Endpoint> EndpointBalancer::pick(const std::vector<Endpoint>& endpoints,
                                               const std::set<std::string>& exclude,
                                               bool allow_ejected) {
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  const Endpoint* best = nullptr;
  const State* best_state = nullptr;
  State unknown;
  for (const Endpoint& endpoint : endpoints) {
    if (!endpoint.ready) continue;
    const std::string address = endpoint.address();
    if (exclude.count(address)) continue;
    auto it = states_.find(address);
    const State& state = it == states_.end() ? unknown : it->second;
    if (!allow_ejected && !usable(state, now)) continue;
    if (best_state) {
      // Fewest outstanding, then the shorter reported queue, then the least recently
      // picked (exact ties go round robin).
      const auto rank = [](const State& s) {
        return std::make_tuple(s.outstanding, std::max(s.queue_depth, 0), s.last_pick);
      };
      if (rank(state) >= rank(*best_state)) continue;
    }
    best = &endpoint;
    best_state = &state;
  }
  if (!best) return std::nullopt;
  states_[best->address()].last_pick = ++picks_;
  return *best;
}

bool EndpointBalancer::has_usable(const std::vector<Endpoint>& endpoints,
                                  const std::set<std::string>& exclude) {
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  for (const auto& endpoint : endpoints) {
    if (!endpoint.ready) continue;
    const std::string address = endpoint.address();
    if (exclude.count(address)) continue;
    auto it = states_.find(address);
    if (it == states_.end() || usable(it->second, now)) return true;
  }
  return false;
}

void EndpointBalancer::request_started(const std::string& address) {
  std::lock_guard lock(mutex_);
  ++states_[address].outstanding;
}

void EndpointBalancer::request_finished(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto& state = states_[address];
  state.outstanding = std::max(0, state.outstanding - 1);
}

bool EndpointBalancer::report_failure(const std::string& address) {
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  auto& state = states_[address];
  ++state.failures;
  if (state.failures < policy_.consecutive_failures || !usable(state, now)) return false;
  ++state.ejections;
  const auto duration = std::min(policy_.base_ejection * state.ejections, policy_.max_ejection);
  state.ejected_until = now + duration;
  state.failures = 0;
  return true;
}

void EndpointBalancer::report_success(const std::string& address, std::optional<int> queue_depth) {
  std::lock_guard lock(mutex_);
  auto& state = states_[address];
  state.failures = 0;
  // Healthy for a while after its last re-admission: past ejections are forgiven.
  if (clock_() > state.ejected_until + policy_.max_ejection) state.ejections = 0;
  if (queue_depth) state.queue_depth = *queue_depth;
}

int EndpointBalancer::outstanding(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto it = states_.find(address);
  return it == states_.end() ? 0 : it->second.outstanding;
}

bool EndpointBalancer::ejected(const std::string& address) {
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  auto it = states_.find(address);
  return it != states_.end() && !usable(it->second, now);
}

void EndpointBalancer::retain(const std::set<std::string>& addresses) {
  std::lock_guard lock(mutex_);
  std::erase_if(states_, [&](const auto& entry) {
    return entry.second.outstanding == 0 && !addresses.count(entry.first);
  });
}

}  // namespace llmops::router
