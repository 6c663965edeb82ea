#include "llmops/kube/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace llmops::kube {

ItemExponentialBackoff::ItemExponentialBackoff(std::chrono::nanoseconds base,
                                               std::chrono::nanoseconds max)
    : base_(base), max_(max) {}

std::chrono::nanoseconds ItemExponentialBackoff::when(const std::string& key) {
  std::lock_guard lock(mutex_);
  int exponent = failures_[key]++;
  // In double: 2^exponent overflows integers long before the cap is reached.
  double delay = static_cast<double>(base_.count()) * std::pow(2.0, exponent);
  if (delay >= static_cast<double>(max_.count())) return max_;
  return std::chrono::nanoseconds(static_cast<long long>(delay));
}

void ItemExponentialBackoff::forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  failures_.erase(key);
}

int ItemExponentialBackoff::failures(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

TokenBucket::TokenBucket(double qps, double burst, std::shared_ptr<Clock> clock)
    : qps_(qps), burst_(burst), clock_(std::move(clock)), tokens_(burst), last_(clock_->now()) {}

std::chrono::nanoseconds TokenBucket::reserve() {
  std::lock_guard lock(mutex_);
  auto now = clock_->now();
  if (now > last_) {
    double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
    last_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(static_cast<long long>(-tokens_ / qps_ * 1e9));
}

ControllerRateLimiter::ControllerRateLimiter(RateLimiterOptions options,
                                             std::shared_ptr<Clock> clock)
    : backoff_(options.base_delay, options.max_delay),
      bucket_(options.qps, options.burst, std::move(clock)) {}

std::chrono::nanoseconds ControllerRateLimiter::when(const std::string& key) {
  return std::max(backoff_.when(key), bucket_.reserve());
}

}  // namespace llmops::kube
