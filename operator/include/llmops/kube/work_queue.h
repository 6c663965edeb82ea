// The controller's queue of keys to reconcile, with client-go's guarantees: a key queued
// several times is one item; a key is never handed to two workers at once (re-added while
// processing, it runs again after done()); failed keys come back after a rate-limited
// delay; add_after() schedules a key for later.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "llmops/kube/rate_limiter.h"

namespace llmops::kube {

struct WorkQueueObserver {
  std::function<void(std::size_t depth)> on_depth;
  std::function<void(double seconds)> on_queue_latency;  // added → handed to a worker
  std::function<void()> on_retry;                        // add_rate_limited
};

class WorkQueue {
 public:
  explicit WorkQueue(RateLimiterOptions limits = {}, WorkQueueObserver observer = {},
                     std::shared_ptr<Clock> clock = real_clock());

  void add(const std::string& key);
  void add_after(const std::string& key, std::chrono::nanoseconds delay);
  // After a failure: add_after(key, rate limiter's delay for key).
  void add_rate_limited(const std::string& key);
  // Success: the key's failure count starts again from zero.
  void forget(const std::string& key) { limiter_.forget(key); }
  int num_requeues(const std::string& key) const { return limiter_.failures(key); }

  // Blocks for the next key; nullopt once shut down.
  std::optional<std::string> get();
  // The worker finished key (whatever the outcome).
  void done(const std::string& key);
  // Wakes every get() with nullopt; keys being processed may still call done().
  void shut_down();
  bool shutting_down() const;
  // Keys ready to be handed out (not counting delayed or in-process ones).
  std::size_t len() const;
  std::size_t delayed() const;

 private:
  void add_locked(const std::string& key);
  void promote_due_locked(std::chrono::steady_clock::time_point now);
  void report_depth_locked();

  ControllerRateLimiter limiter_;
  WorkQueueObserver observer_;
  std::shared_ptr<Clock> clock_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;  // queued or to re-queue after done
  std::unordered_set<std::string> processing_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> added_at_;
  // Delayed keys: the earliest time each is due, and the same ordered by time.
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> waiting_;
  std::multimap<std::chrono::steady_clock::time_point, std::string> waiting_by_time_;
  bool shutting_down_ = false;
};

}  // namespace llmops::kube
