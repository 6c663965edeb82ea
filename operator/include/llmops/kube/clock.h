// Time behind an interface so that leader election, backoff and the work queue are
// tested without sleeping. Wall time is for timestamps written to the API (MicroTime);
// monotonic time is for every duration the process measures itself.
#pragma once

#include <chrono>
#include <memory>

namespace llmops::kube {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() const = 0;
  virtual std::chrono::system_clock::time_point wall_now() const = 0;
};

class RealClock : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override {
    return std::chrono::steady_clock::now();
  }
  std::chrono::system_clock::time_point wall_now() const override {
    return std::chrono::system_clock::now();
  }
};

std::shared_ptr<Clock> real_clock();

// MicroTime as Kubernetes writes it: 2006-01-02T15:04:05.000000Z (UTC).
std::string format_micro_time(std::chrono::system_clock::time_point time);
// RFC 3339 seconds: 2006-01-02T15:04:05Z (metav1.Time).
std::string format_time(std::chrono::system_clock::time_point time);
// Parses both forms (fractional seconds optional, 'Z' or +hh:mm); throws
// std::invalid_argument naming the text when it is not a timestamp.
std::chrono::system_clock::time_point parse_time(const std::string& text);

}  // namespace llmops::kube
