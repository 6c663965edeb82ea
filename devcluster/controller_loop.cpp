#include "controller_loop.h"

#include <spdlog/spdlog.h>

namespace llmops::devcluster {

ControllerLoop::ControllerLoop(std::string name, std::chrono::milliseconds period,
                               std::function<void()> step)
    : name_(std::move(name)), period_(period), step_(std::move(step)) {}

ControllerLoop::~ControllerLoop() {
  stop();
}

void ControllerLoop::start() {
  thread_ = std::thread([this] { run(); });
}

void ControllerLoop::wake() {
  std::lock_guard lock(mutex_);
  woken_ = true;
  wakeup_.notify_one();
}

void ControllerLoop::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wakeup_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void ControllerLoop::run() {
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wakeup_.wait_for(lock, period_, [this] { return woken_ || stopping_; });
      if (stopping_) return;
      woken_ = false;
    }
    try {
      step_();
    } catch (const std::exception& error) {
      spdlog::warn("event=controller_step_failed controller={} error=\"{}\"", name_, error.what());
    }
  }
}

}  // namespace llmops::devcluster
