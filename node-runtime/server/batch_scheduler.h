// Continuous batching: one engine thread runs every admitted sequence together. Each
// step feeds one token of every decoding sequence plus a bounded chunk of prompts being
// prefilled, so requests join and leave between steps and a long prompt never stalls
// running streams. A bounded queue holds what does not fit; beyond it, submit refuses.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/sequence.h"
#include "engine/tokenizer.h"
#include "engine/transformer.h"

namespace llmops::server {

struct SequenceResult {
  engine::FinishReason finish = engine::FinishReason::MaxTokens;
  int prompt_tokens = 0;
  int completion_tokens = 0;
  double queue_seconds = 0;
  double ttft_seconds = 0;  // submit to first token
  double duration_seconds = 0;
  bool cancelled = false;  // by the client (disconnect) or by shutdown
  bool refused = false;    // never started: the server is draining (safe to retry elsewhere)
  bool shutdown = false;   // cut short by the server stopping (the drain deadline)
  std::string error;       // non-empty when the engine failed
};

// Receives a sequence's output on the engine thread: keep the callbacks short.
class SequenceObserver {
 public:
  virtual ~SequenceObserver() = default;
  // The sequence left the queue and joins the batch (not called for refused ones).
  virtual void on_start() {}
  virtual void on_text(std::string_view text) = 0;
  virtual void on_finish(const SequenceResult& result) = 0;  // exactly once
};

// Lets the submitter cancel its sequence (e.g. when the client hangs up).
class SequenceHandle {
 public:
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  std::atomic<bool> cancelled_{false};
};

// Timing signals for metrics, called on the engine thread.
class SchedulerListener {
 public:
  virtual ~SchedulerListener() = default;
  virtual void on_step(int sequences, int tokens, int sampled) = 0;
  virtual void on_first_token(double ttft_seconds) = 0;
  virtual void on_inter_token(double seconds) = 0;
};

struct SchedulerOptions {
  int max_batch = 16;       // sequences running at once
  int max_queue = 64;       // sequences waiting; beyond: QueueFull
  int prefill_budget = 64;  // prompt tokens fed per step, across sequences
  int context = 0;          // per-sequence context; 0 = the model's
};

struct SchedulerStats {
  int queued = 0;
  int running = 0;
  double kv_cache_usage_ratio = 0;  // cache positions allocated / (max_batch x context)
};

class BatchScheduler {
 public:
  BatchScheduler(engine::Transformer& transformer, const engine::Tokenizer& tokenizer,
                 SchedulerOptions options, SchedulerListener* listener = nullptr);
  ~BatchScheduler();  // stop()
  BatchScheduler(const BatchScheduler&) = delete;
  BatchScheduler& operator=(const BatchScheduler&) = delete;

  enum class Admission { Accepted, QueueFull, Stopped };
  // Thread-safe. When Accepted, `observer` gets on_finish exactly once. `prompt_ids`
  // must fit the context (the caller checks, to answer 400 with the limit).
  Admission submit(std::vector<int32_t> prompt_ids, const engine::GenerationOptions& options,
                   std::shared_ptr<SequenceObserver> observer,
                   std::shared_ptr<SequenceHandle> handle);

  SchedulerStats stats() const;
  int context() const { return context_; }
  // Draining: every queued sequence finishes at once as refused, and later submits are
  // refused (Stopped); running ones go on.
  void refuse_queued();
  // Ends the engine thread: queued sequences finish as refused, running ones as cut short
  // (cancelled + shutdown).
  void stop();

 private:
  struct Pending;
  struct Active;
  void run();
  enum class Interruption { kNone, kRefused, kShutdown };
  void finish(Active& active, bool cancelled, const std::string& error,
              Interruption interruption = Interruption::kNone);

  engine::Transformer& transformer_;
  const engine::Tokenizer& tokenizer_;
  SchedulerOptions options_;
  SchedulerListener* listener_;
  int context_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Pending>> queue_;
  bool stopping_ = false;
  bool refusing_ = false;
  std::atomic<int> running_{0};
  std::atomic<int64_t> kv_positions_{0};
  std::thread thread_;
};

}  // namespace llmops::server
