// A persistent pool of compute threads for the kernels: no thread is created per
// operation. parallel_for splits a range into one contiguous chunk per thread (the
// calling thread takes the first), so each worker streams its own rows of a matrix.
// Workers spin briefly between operations, then sleep on a futex (std::atomic::wait).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace llmops::engine {

class ThreadPool {
 public:
  // `threads` counts the caller: 1 means no worker threads at all.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  // Calls fn(begin, end) on disjoint chunks covering [0, n), one per thread, and returns
  // when all are done. Not reentrant: one parallel_for at a time.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn);
  // Runs fn(thread_index) once on every thread, e.g. to pin it.
  void on_each_thread(const std::function<void(int)>& fn);

 private:
  void worker(int index);
  void run_chunk(int index);

  std::vector<std::thread> workers_;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t job_size_ = 0;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace llmops::engine
