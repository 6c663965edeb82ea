#include "llmops/kube/metrics.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cctype>

namespace llmops::kube {

namespace {

const prometheus::Histogram::BucketBoundaries& latency_buckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return buckets;
}

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

}  // namespace

OperatorMetrics::OperatorMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      reconcile_total_(prometheus::BuildCounter()
                           .Name("llmops_reconcile_total")
                           .Help("Reconciles by controller and result")
                           .Register(*registry_)),
      reconcile_errors_(prometheus::BuildCounter()
                            .Name("llmops_reconcile_errors_total")
                            .Help("Reconciles that returned or threw an error")
                            .Register(*registry_)),
      reconcile_duration_(prometheus::BuildHistogram()
                              .Name("llmops_reconcile_duration_seconds")
                              .Help("Time spent in reconcile")
                              .Register(*registry_)),
      queue_depth_(prometheus::BuildGauge()
                       .Name("llmops_workqueue_depth")
                       .Help("Keys waiting in the work queue")
                       .Register(*registry_)),
      queue_latency_(prometheus::BuildHistogram()
                         .Name("llmops_workqueue_queue_duration_seconds")
                         .Help("Time a key waits in the queue before a worker takes it")
                         .Register(*registry_)),
      queue_retries_(prometheus::BuildCounter()
                         .Name("llmops_workqueue_retries_total")
                         .Help("Keys re-queued with rate-limited backoff")
                         .Register(*registry_)),
      request_duration_(prometheus::BuildHistogram()
                            .Name("llmops_api_request_duration_seconds")
                            .Help("Kubernetes API request latency by verb and HTTP code "
                                  "(code 0: no answer)")
                            .Register(*registry_)),
      watch_restarts_(prometheus::BuildCounter()
                          .Name("llmops_watch_restarts_total")
                          .Help("Watches restarted after an error or a 410 expiry")
                          .Register(*registry_)),
      leader_(prometheus::BuildGauge()
                  .Name("llmops_leader_election_is_leader")
                  .Help("1 while this process holds the leader lease")
                  .Register(*registry_)
                  .Add({})) {}

void OperatorMetrics::reconcile_finished(const std::string& controller, const std::string& result,
                                         double seconds) {
  reconcile_total_.Add({{"controller", controller}, {"result", result}}).Increment();
  if (result == "error" || result == "terminal_error") {
    reconcile_errors_.Add({{"controller", controller}}).Increment();
  }
  reconcile_duration_.Add({{"controller", controller}}, latency_buckets()).Observe(seconds);
}

WorkQueueObserver OperatorMetrics::queue_observer(const std::string& queue_name) {
  auto& depth = queue_depth_.Add({{"name", queue_name}});
  auto& latency = queue_latency_.Add({{"name", queue_name}}, latency_buckets());
  auto& retries = queue_retries_.Add({{"name", queue_name}});
  WorkQueueObserver observer;
  observer.on_depth = [&depth](std::size_t n) { depth.Set(static_cast<double>(n)); };
  observer.on_queue_latency = [&latency](double seconds) { latency.Observe(seconds); };
  observer.on_retry = [&retries] { retries.Increment(); };
  return observer;
}

RequestObserver OperatorMetrics::request_observer() {
  return [this](const std::string& verb, int code, double seconds) {
    request_duration_
        .Add({{"verb", upper(verb)}, {"code", std::to_string(code)}}, latency_buckets())
        .Observe(seconds);
  };
}

std::function<void(const std::string&)> OperatorMetrics::watch_restart_observer(
    const std::string& resource) {
  return [this, resource](const std::string& reason) {
    watch_restarts_.Add({{"resource", resource}, {"reason", reason}}).Increment();
  };
}

void OperatorMetrics::set_leader(bool leader) {
  leader_.Set(leader ? 1 : 0);
}

std::string OperatorMetrics::render() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

}  // namespace llmops::kube
