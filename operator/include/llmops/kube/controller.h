// A controller runs N workers over a WorkQueue, calling one reconcile function per key.
//
// Reconcile is level-triggered: it is told only *which* object ("namespace/name") may
// need work, never what changed, so it reads the current state from the informer cache,
// makes the world match, and reports one of:
//
//   return Result::done();                          // converged; wait for the next event
//   return Result::requeue_after(std::chrono::seconds(30));  // time-based: look again then
//   return Result::error("pods not listable");      // failed: retried with backoff
//
// Waiting for time and retrying a failure are different things: requeue_after never grows
// and resets the key's backoff; error() backs off exponentially (5 ms → 1000 s). A
// TerminalError (returned or thrown) is logged and counted but never retried, for input
// no retry can fix; the next change to the object triggers a fresh reconcile. Any other
// exception counts as error().
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "llmops/kube/informer.h"
#include "llmops/kube/work_queue.h"

namespace llmops::kube {

class OperatorMetrics;

class TerminalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Result {
 public:
  enum class Kind { kDone, kRequeueAfter, kError, kTerminalError };

  static Result done() { return Result(Kind::kDone, {}, ""); }
  static Result requeue_after(std::chrono::nanoseconds delay) {
    return Result(Kind::kRequeueAfter, delay, "");
  }
  static Result error(std::string message) { return Result(Kind::kError, {}, std::move(message)); }
  static Result terminal_error(std::string message) {
    return Result(Kind::kTerminalError, {}, std::move(message));
  }

  Kind kind() const { return kind_; }
  std::chrono::nanoseconds delay() const { return delay_; }
  const std::string& message() const { return message_; }

 private:
  Result(Kind kind, std::chrono::nanoseconds delay, std::string message)
      : kind_(kind), delay_(delay), message_(std::move(message)) {}
  Kind kind_;
  std::chrono::nanoseconds delay_;
  std::string message_;
};

using Reconciler = std::function<Result(const std::string& key)>;

struct ControllerOptions {
  std::string name = "controller";
  int workers = 2;
  RateLimiterOptions rate_limits;
  OperatorMetrics* metrics = nullptr;  // optional; must outlive the controller
};

class Controller {
 public:
  Controller(ControllerOptions options, Reconciler reconciler);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Enqueues the key of every object the informer adds, updates or deletes.
  void watch_for(Informer& informer);
  // Enqueues the controller key of owned objects (their controller ownerReference of
  // owner_group/owner_kind); others are ignored.
  void watch_owned(Informer& informer, const std::string& owner_group,
                   const std::string& owner_kind);

  WorkQueue& queue() { return *queue_; }

  // Starts the workers. Keys queued before start() wait for them.
  void start();
  // Stops taking keys; workers finish the reconcile they are in, then are joined.
  void stop();

 private:
  void worker();
  void process(const std::string& key);

  ControllerOptions options_;
  Reconciler reconciler_;
  std::unique_ptr<WorkQueue> queue_;
  std::vector<std::thread> workers_;
  std::atomic<bool> started_{false};
};

}  // namespace llmops::kube
