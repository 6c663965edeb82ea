#include "batch_scheduler.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <stdexcept>

namespace llmops::server {

using Clock = std::chrono::steady_clock;

namespace {
double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
}  // namespace

struct BatchScheduler::Pending {
  std::vector<int32_t> prompt_ids;
  engine::GenerationOptions options;
  std::shared_ptr<SequenceObserver> observer;
  std::shared_ptr<SequenceHandle> handle;
  Clock::time_point submitted;
};

struct BatchScheduler::Active {
  std::unique_ptr<engine::Sequence> sequence;
  std::shared_ptr<SequenceObserver> observer;
  std::shared_ptr<SequenceHandle> handle;
  Clock::time_point submitted;
  Clock::time_point admitted;
  Clock::time_point last_token;
  double ttft_seconds = 0;
  int prompt_tokens = 0;
  bool counted = false;  // in running_ and kv_positions_
  bool done = false;
};

BatchScheduler::BatchScheduler(engine::Transformer& transformer, const engine::Tokenizer& tokenizer,
                               SchedulerOptions options, SchedulerListener* listener)
    : transformer_(transformer),
      tokenizer_(tokenizer),
      options_(options),
      listener_(listener),
      context_(options.context > 0 ? options.context : transformer.config().context_length) {
  if (options_.max_batch < 1) throw std::invalid_argument("max batch must be >= 1");
  if (options_.max_queue < 0) throw std::invalid_argument("max queue must be >= 0");
  if (options_.prefill_budget < 1) throw std::invalid_argument("prefill budget must be >= 1");
  if (context_ > transformer.config().context_length) {
    throw std::invalid_argument("context " + std::to_string(context_) +
                                " exceeds the model's context length of " +
                                std::to_string(transformer.config().context_length));
  }
  thread_ = std::thread([this] { run(); });
}

BatchScheduler::~BatchScheduler() {
  stop();
}

void BatchScheduler::refuse_queued() {
  {
    std::lock_guard lock(mutex_);
    refusing_ = true;
  }
  wake_.notify_all();
}

void BatchScheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

BatchScheduler::Admission BatchScheduler::submit(std::vector<int32_t> prompt_ids,
                                                 const engine::GenerationOptions& options,
                                                 std::shared_ptr<SequenceObserver> observer,
                                                 std::shared_ptr<SequenceHandle> handle) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || refusing_) return Admission::Stopped;
    // Free batch slots count as room: a request waits in the queue only while the batch
    // is full.
    const int free_slots = std::max(0, options_.max_batch - running_.load());
    if (static_cast<int>(queue_.size()) >= options_.max_queue + free_slots) {
      return Admission::QueueFull;
    }
    queue_.push_back(std::make_unique<Pending>(Pending{
        std::move(prompt_ids), options, std::move(observer), std::move(handle), Clock::now()}));
  }
  wake_.notify_one();
  return Admission::Accepted;
}

SchedulerStats BatchScheduler::stats() const {
  SchedulerStats s;
  {
    std::lock_guard lock(mutex_);
    s.queued = static_cast<int>(queue_.size());
  }
  s.running = running_.load();
  s.kv_cache_usage_ratio = static_cast<double>(kv_positions_.load()) /
                           (static_cast<double>(options_.max_batch) * context_);
  return s;
}

void BatchScheduler::finish(Active& active, bool cancelled, const std::string& error,
                            Interruption interruption) {
  if (active.done) return;
  active.done = true;
  // Release the accounting first: when the observer hears of the end, stats() agree.
  if (active.counted) {
    active.counted = false;
    --running_;
    if (active.sequence) kv_positions_ -= active.sequence->cache().capacity();
  }
  const auto now = Clock::now();
  SequenceResult result;
  result.prompt_tokens = active.prompt_tokens;
  if (active.sequence) {
    result.finish = active.sequence->finish_reason();
    result.completion_tokens = static_cast<int>(active.sequence->generated().size());
  }
  result.queue_seconds = seconds_between(active.submitted, active.admitted);
  result.ttft_seconds = active.ttft_seconds;
  result.duration_seconds = seconds_between(active.submitted, now);
  result.cancelled = cancelled;
  result.refused = interruption == Interruption::kRefused;
  result.shutdown = interruption == Interruption::kShutdown;
  result.error = error;
  active.observer->on_finish(result);
}

void BatchScheduler::run() {
  std::vector<std::unique_ptr<Active>> active;
  std::vector<engine::BatchToken> batch;
  std::vector<Active*> logit_owners;
  const int vocab = transformer_.config().vocab_size;

  for (;;) {
    std::vector<std::unique_ptr<Pending>> admitted;
    std::vector<std::unique_ptr<Pending>> refused;
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || !active.empty(); });
      stopping = stopping_;
      if (stopping || refusing_) {
        // Never started: refused, so that the client can retry on another replica now
        // rather than wait for the drain deadline.
        for (auto& p : queue_) refused.push_back(std::move(p));
        queue_.clear();
      } else {
        while (!queue_.empty() &&
               static_cast<int>(active.size() + admitted.size()) < options_.max_batch) {
          admitted.push_back(std::move(queue_.front()));
          queue_.pop_front();
          ++running_;  // under the lock, so that submit() never sees the slot free
        }
      }
    }
    const auto now = Clock::now();
    for (auto& p : refused) {
      Active a;
      a.observer = std::move(p->observer);
      a.handle = std::move(p->handle);
      a.submitted = p->submitted;
      a.admitted = now;
      a.prompt_tokens = static_cast<int>(p->prompt_ids.size());
      a.counted = false;
      finish(a, true, "", Interruption::kRefused);
    }
    for (auto& p : admitted) {
      auto a = std::make_unique<Active>();
      a->observer = std::move(p->observer);
      a->handle = std::move(p->handle);
      a->submitted = p->submitted;
      a->admitted = now;
      a->prompt_tokens = static_cast<int>(p->prompt_ids.size());
      a->counted = true;  // running_ was raised when it left the queue
      if (a->handle->cancelled()) {
        finish(*a, true, "");
        continue;
      }
      try {
        a->sequence = std::make_unique<engine::Sequence>(
            tokenizer_, std::move(p->prompt_ids), p->options, context_, transformer_.config());
      } catch (const std::exception& e) {
        finish(*a, false, e.what());
        continue;
      }
      kv_positions_ += a->sequence->cache().capacity();
      a->observer->on_start();
      active.push_back(std::move(a));
    }
    if (stopping) {
      for (auto& a : active) finish(*a, true, "", Interruption::kShutdown);
      return;
    }

    // One step: a token of every decoding sequence, then prompt chunks within budget.
    batch.clear();
    logit_owners.clear();
    int sequences = 0;
    auto schedule = [&](Active& a, int budget) {
      const int n = a.sequence->schedule(batch, budget);
      if (n > 0) ++sequences;
      if (n > 0 && batch.back().want_logits) logit_owners.push_back(&a);
      return n;
    };
    for (auto& a : active) {
      if (a->handle->cancelled()) {
        finish(*a, true, "");
      } else if (a->sequence->finished()) {
        finish(*a, false, "");  // e.g. max_tokens 0
      } else if (!a->sequence->prefilling()) {
        schedule(*a, 1);
      }
    }
    int budget = options_.prefill_budget;
    for (auto& a : active) {
      if (!a->done && a->sequence->prefilling() && budget > 0) budget -= schedule(*a, budget);
    }

    if (!batch.empty()) {
      try {
        const auto logits = transformer_.forward_batch(batch);
        const auto after = Clock::now();
        for (size_t i = 0; i < logit_owners.size(); ++i) {
          Active& a = *logit_owners[i];
          const bool first = a.sequence->generated().empty();
          const std::string text = a.sequence->accept_logits(logits.data() + i * vocab);
          if (first) {
            a.ttft_seconds = seconds_between(a.submitted, after);
            if (listener_) listener_->on_first_token(a.ttft_seconds);
          } else if (listener_) {
            listener_->on_inter_token(seconds_between(a.last_token, after));
          }
          a.last_token = after;
          if (!text.empty()) a.observer->on_text(text);
          if (a.sequence->finished()) finish(a, false, "");
        }
        if (listener_) {
          listener_->on_step(sequences, static_cast<int>(batch.size()),
                             static_cast<int>(logit_owners.size()));
        }
      } catch (const std::exception& e) {
        for (auto& a : active) finish(*a, false, std::string("engine failure: ") + e.what());
      }
    }

    // Finished sequences leave the batch and free their KV cache at once.
    std::erase_if(active, [](const std::unique_ptr<Active>& a) { return a->done; });
  }
}

}  // namespace llmops::server
