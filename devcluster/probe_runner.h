// Where the kubelet's probes run: each probe on a thread of its own, so that a probe
// waiting for its timeout holds up neither the kubelet's lock nor the other probes.
// `stop` cancels the probes still running (they fail at once) and joins their threads.
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace llmops::devcluster {

class ProbeRunner {
 public:
  ProbeRunner();
  ~ProbeRunner();
  ProbeRunner(const ProbeRunner&) = delete;
  ProbeRunner& operator=(const ProbeRunner&) = delete;

  // Runs `probe(cancelFd)` on a new thread; `cancelFd` becomes readable at `stop`.
  // Does nothing once stopped.
  void run(std::function<void(int cancelFd)> probe);
  // Cancels the running probes and waits for their threads. Must not be called while
  // holding a lock that a probe takes to deliver its result.
  void stop();
  // Probes started and not yet finished.
  size_t running();

 private:
  struct Worker {
    std::thread thread;
    std::shared_ptr<bool> done;  // under mutex_
  };
  void joinFinished();  // mutex_ held

  std::mutex mutex_;
  std::list<Worker> workers_;
  int cancelFd_ = -1;  // an eventfd
  bool stopped_ = false;
};

}  // namespace llmops::devcluster
