// The operator's Prometheus metrics (prometheus-cpp types, text exposition): reconciles,
// work queues, API requests and watch restarts. One instance per process; the pieces of
// machinery are handed the observer functions they report through.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "llmops/kube/kube_client.h"
#include "llmops/kube/work_queue.h"

namespace llmops::kube {

class OperatorMetrics {
 public:
  OperatorMetrics();

  // result: success, requeue_after, error, terminal_error
  void reconcile_finished(const std::string& controller, const std::string& result, double seconds);
  WorkQueueObserver queue_observer(const std::string& queue_name);
  RequestObserver request_observer();
  std::function<void(const std::string& reason)> watch_restart_observer(
      const std::string& resource);
  void set_leader(bool leader);

  // Text exposition format 0.0.4.
  std::string render() const;
  prometheus::Registry& registry() { return *registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& reconcile_total_;
  prometheus::Family<prometheus::Counter>& reconcile_errors_;
  prometheus::Family<prometheus::Histogram>& reconcile_duration_;
  prometheus::Family<prometheus::Gauge>& queue_depth_;
  prometheus::Family<prometheus::Histogram>& queue_latency_;
  prometheus::Family<prometheus::Counter>& queue_retries_;
  prometheus::Family<prometheus::Histogram>& request_duration_;
  prometheus::Family<prometheus::Counter>& watch_restarts_;
  prometheus::Gauge& leader_;
};

}  // namespace llmops::kube
