// How long a key waits before it is retried: exponential per key (5 ms doubling to
// 1000 s, reset by forget) and a token bucket over all keys (10 qps, burst 100), the
// longer of the two winning, as client-go's DefaultControllerRateLimiter.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "llmops/kube/clock.h"

namespace llmops::kube {

class ItemExponentialBackoff {
 public:
  ItemExponentialBackoff(std::chrono::nanoseconds base = std::chrono::milliseconds(5),
                         std::chrono::nanoseconds max = std::chrono::seconds(1000));
  // The delay for this failure of key (base * 2^failures so far, capped).
  std::chrono::nanoseconds when(const std::string& key);
  void forget(const std::string& key);
  int failures(const std::string& key) const;

 private:
  std::chrono::nanoseconds base_;
  std::chrono::nanoseconds max_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, int> failures_;
};

// Reservations in the style of golang.org/x/time/rate: a call always succeeds and
// returns how long its caller must wait for its token.
class TokenBucket {
 public:
  TokenBucket(double qps, double burst, std::shared_ptr<Clock> clock = real_clock());
  std::chrono::nanoseconds reserve();

 private:
  double qps_;
  double burst_;
  std::shared_ptr<Clock> clock_;
  std::mutex mutex_;
  double tokens_;
  std::chrono::steady_clock::time_point last_;
};

struct RateLimiterOptions {
  std::chrono::nanoseconds base_delay = std::chrono::milliseconds(5);
  std::chrono::nanoseconds max_delay = std::chrono::seconds(1000);
  double qps = 10;
  double burst = 100;
};

class ControllerRateLimiter {
 public:
  explicit ControllerRateLimiter(RateLimiterOptions options = {},
                                 std::shared_ptr<Clock> clock = real_clock());
  std::chrono::nanoseconds when(const std::string& key);
  void forget(const std::string& key) { backoff_.forget(key); }
  int failures(const std::string& key) const { return backoff_.failures(key); }

 private:
  ItemExponentialBackoff backoff_;
  TokenBucket bucket_;
};

}  // namespace llmops::kube
