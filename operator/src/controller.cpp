#include "llmops/kube/controller.h"

#include <spdlog/spdlog.h>

#include "llmops/kube/metrics.h"
#include "llmops/kube/owner_refs.h"

namespace llmops::kube {

Controller::Controller(ControllerOptions options, Reconciler reconciler)
    : options_(std::move(options)), reconciler_(std::move(reconciler)) {
  WorkQueueObserver observer;
  if (options_.metrics != nullptr) observer = options_.metrics->queue_observer(options_.name);
  queue_ = std::make_unique<WorkQueue>(options_.rate_limits, std::move(observer));
}

Controller::~Controller() {
  stop();
}

void Controller::watch_for(Informer& informer) {
  WorkQueue* queue = queue_.get();
  informer.add_event_handlers(
      {[queue](const ObjectPtr& object) { queue->add(object_key(*object)); },
       [queue](const ObjectPtr&, const ObjectPtr& object) { queue->add(object_key(*object)); },
       [queue](const ObjectPtr& object) { queue->add(object_key(*object)); }});
}

void Controller::watch_owned(Informer& informer, const std::string& owner_group,
                             const std::string& owner_kind) {
  WorkQueue* queue = queue_.get();
  auto enqueue = [queue, owner_group, owner_kind](const ObjectPtr& object) {
    if (auto key = controller_key(*object, owner_group, owner_kind)) queue->add(*key);
  };
  informer.add_event_handlers({enqueue,
                               [enqueue](const ObjectPtr& old_object, const ObjectPtr& object) {
                                 // The owner may have changed: both hear about it.
                                 enqueue(old_object);
                                 enqueue(object);
                               },
                               enqueue});
}

void Controller::start() {
  if (started_.exchange(true)) return;
  spdlog::info("event=controller_start controller={} workers={}", options_.name, options_.workers);
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { worker(); });
}

void Controller::stop() {
  queue_->shut_down();
  for (auto& thread : workers_) {
    if (thread.joinable()) thread.join();
  }
  workers_.clear();
}

void Controller::worker() {
  while (auto key = queue_->get()) {
    process(*key);
    queue_->done(*key);
  }
}

void Controller::process(const std::string& key) {
  auto start = std::chrono::steady_clock::now();
  std::optional<Result> result;
  try {
    result = reconciler_(key);
  } catch (const TerminalError& error) {
    result = Result::terminal_error(error.what());
  } catch (const std::exception& error) {
    result = Result::error(error.what());
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string outcome;
  switch (result->kind()) {
    case Result::Kind::kDone:
      outcome = "success";
      queue_->forget(key);
      break;
    case Result::Kind::kRequeueAfter:
      outcome = "requeue_after";
      queue_->forget(key);
      queue_->add_after(key, result->delay());
      break;
    case Result::Kind::kError:
      outcome = "error";
      spdlog::warn("event=reconcile_error controller={} key={} retries={} error=\"{}\"",
                   options_.name, key, queue_->num_requeues(key), result->message());
      queue_->add_rate_limited(key);
      break;
    case Result::Kind::kTerminalError:
      outcome = "terminal_error";
      spdlog::error("event=reconcile_terminal_error controller={} key={} error=\"{}\"",
                    options_.name, key, result->message());
      queue_->forget(key);
      break;
  }
  if (options_.metrics != nullptr)
    options_.metrics->reconcile_finished(options_.name, outcome, seconds);
}

}  // namespace llmops::kube
