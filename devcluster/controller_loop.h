// A level-triggered control loop on its own thread: `step` reads the world and acts; it
// runs when woken (a store event) and at least every `period`. A step that throws is
// logged and retried at the next period; nothing is remembered across steps that the
// step cannot rebuild.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace llmops::devcluster {

class ControllerLoop {
 public:
  ControllerLoop(std::string name, std::chrono::milliseconds period, std::function<void()> step);
  ~ControllerLoop();
  ControllerLoop(const ControllerLoop&) = delete;
  ControllerLoop& operator=(const ControllerLoop&) = delete;

  void start();
  // Runs the step soon; cheap and non-blocking, so it may be called under the store lock.
  void wake();
  // Finishes the current step and joins the thread. Idempotent.
  void stop();

 private:
  void run();

  std::string name_;
  std::chrono::milliseconds period_;
  std::function<void()> step_;
  std::mutex mutex_;
  std::condition_variable wakeup_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace llmops::devcluster
