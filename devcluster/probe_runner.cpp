#include "probe_runner.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace llmops::devcluster {

ProbeRunner::ProbeRunner() : cancelFd_(eventfd(0, EFD_CLOEXEC)) {
  if (cancelFd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

ProbeRunner::~ProbeRunner() {
  stop();
  close(cancelFd_);
}

void ProbeRunner::joinFinished() {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (*it->done) {
      it->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

void ProbeRunner::run(std::function<void(int cancelFd)> probe) {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  joinFinished();
  auto done = std::make_shared<bool>(false);
  std::thread thread([this, done, probe = std::move(probe)] {
    try {
      probe(cancelFd_);
    } catch (...) {  // a probe reports its failures itself; nothing may end the process
    }
    std::lock_guard lock(mutex_);
    *done = true;
  });
  workers_.push_back({std::move(thread), std::move(done)});
}

void ProbeRunner::stop() {
  std::list<Worker> workers;
  {
    std::lock_guard lock(mutex_);
    if (!stopped_) {
      stopped_ = true;
      uint64_t one = 1;
      (void)!write(cancelFd_, &one, sizeof one);
    }
    workers.swap(workers_);
  }
  for (auto& worker : workers) worker.thread.join();
}

size_t ProbeRunner::running() {
  std::lock_guard lock(mutex_);
  return static_cast<size_t>(std::count_if(workers_.begin(), workers_.end(),
                                           [](const Worker& worker) { return !*worker.done; }));
}

}  // namespace llmops::devcluster
