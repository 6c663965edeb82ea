#include "llmops/kube/work_queue.h"

namespace llmops::kube {

WorkQueue::WorkQueue(RateLimiterOptions limits, WorkQueueObserver observer,
                     std::shared_ptr<Clock> clock)
    : limiter_(limits, clock), observer_(std::move(observer)), clock_(std::move(clock)) {}

void WorkQueue::report_depth_locked() {
  if (observer_.on_depth) observer_.on_depth(queue_.size());
}

void WorkQueue::add_locked(const std::string& key) {
  if (shutting_down_ || dirty_.count(key) != 0) return;
  dirty_.insert(key);
  added_at_.emplace(key, clock_->now());
  if (processing_.count(key) != 0) return;  // queued again by done()
  queue_.push_back(key);
  report_depth_locked();
  ready_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mutex_);
  add_locked(key);
}

void WorkQueue::add_after(const std::string& key, std::chrono::nanoseconds delay) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return;
  if (delay <= std::chrono::nanoseconds(0)) {
    add_locked(key);
    return;
  }
  auto due = clock_->now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay);
  auto it = waiting_.find(key);
  if (it != waiting_.end()) {
    if (it->second <= due) return;  // already due sooner
    auto range = waiting_by_time_.equal_range(it->second);
    for (auto entry = range.first; entry != range.second; ++entry) {
      if (entry->second == key) {
        waiting_by_time_.erase(entry);
        break;
      }
    }
    it->second = due;
  } else {
    waiting_.emplace(key, due);
  }
  waiting_by_time_.emplace(due, key);
  ready_.notify_all();  // a sleeping get() may need to wake earlier
}

void WorkQueue::add_rate_limited(const std::string& key) {
  if (observer_.on_retry) observer_.on_retry();
  add_after(key, limiter_.when(key));
}

void WorkQueue::promote_due_locked(std::chrono::steady_clock::time_point now) {
  while (!waiting_by_time_.empty() && waiting_by_time_.begin()->first <= now) {
    std::string key = waiting_by_time_.begin()->second;
    waiting_by_time_.erase(waiting_by_time_.begin());
    waiting_.erase(key);
    add_locked(key);
  }
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (shutting_down_) return std::nullopt;
    promote_due_locked(clock_->now());
    if (!queue_.empty()) break;
    if (waiting_by_time_.empty()) {
      ready_.wait(lock);
    } else {
      // The delayed keys are measured on the injected clock; wait in real time for the
      // same span (tests use a real clock here).
      auto span = waiting_by_time_.begin()->first - clock_->now();
      ready_.wait_for(lock, span);
    }
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  auto added = added_at_.find(key);
  if (added != added_at_.end()) {
    if (observer_.on_queue_latency) {
      observer_.on_queue_latency(
          std::chrono::duration<double>(clock_->now() - added->second).count());
    }
    added_at_.erase(added);
  }
  report_depth_locked();
  return key;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mutex_);
  processing_.erase(key);
  if (dirty_.count(key) != 0 && !shutting_down_) {
    queue_.push_back(key);
    report_depth_locked();
    ready_.notify_one();
  }
}

void WorkQueue::shut_down() {
  std::lock_guard lock(mutex_);
  shutting_down_ = true;
  ready_.notify_all();
}

bool WorkQueue::shutting_down() const {
  std::lock_guard lock(mutex_);
  return shutting_down_;
}

std::size_t WorkQueue::len() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t WorkQueue::delayed() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

}  // namespace llmops::kube
