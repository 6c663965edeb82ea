// The router's Prometheus metrics, labelled by namespace, deployment and revision: what
// clients got (requests by code, latency, time to first token) and what the pods did
// (upstream attempts by outcome, retries, ejections) — the canary analysis reads the
// upstream outcomes, so a failure hidden from the client by a retry still counts.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "router/routing_table.h"

namespace llmops::router {

// Outcome of one attempt at a pod, as the pod behaved.
enum class UpstreamOutcome {
  kSuccess,      // 1xx-3xx, or 4xx: the pod answered
  kClientError,  // 4xx
  kError,        // connect failure, reset, timeout, 5xx other than draining
  kDraining,     // 503 with x-llmops-draining: a pod on its way out, not a fault
};

struct RevisionMetrics {
  prometheus::Gauge* in_flight;
  prometheus::Histogram* duration;
  prometheus::Histogram* ttft;
  prometheus::Counter* retries;
  prometheus::Counter* ejections;
  prometheus::Counter* upstream_success;
  prometheus::Counter* upstream_client_error;
  prometheus::Counter* upstream_error;
  prometheus::Counter* upstream_draining;
};

class RouterMetrics {
 public:
  RouterMetrics();

  // The metrics of one revision ("none" when no revision was chosen); cached.
  RevisionMetrics& revision(const std::string& ns, const std::string& deployment,
                            const std::string& revision);
  void count_upstream(RevisionMetrics& metrics, UpstreamOutcome outcome);
  // A response returned to a client, by status code.
  void count_response(const std::string& ns, const std::string& deployment,
                      const std::string& revision, int code);
  // Weights and endpoint counts of the current table (stale series removed).
  void publish_table(const RoutingTable& table,
                     const std::function<bool(const Endpoint&)>& ejected);

  std::string serialize() const;
  prometheus::Registry& registry() { return *registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& upstream_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Histogram>& ttft_;
  prometheus::Family<prometheus::Gauge>& in_flight_;
  prometheus::Family<prometheus::Counter>& retries_;
  prometheus::Family<prometheus::Counter>& ejections_;
  prometheus::Family<prometheus::Gauge>& weight_;
  prometheus::Family<prometheus::Gauge>& endpoints_;
  prometheus::Gauge& table_updates_;

  std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, std::string>, RevisionMetrics> revisions_;
  std::map<std::tuple<std::string, std::string, std::string, int>, prometheus::Counter*> responses_;
  std::vector<prometheus::Gauge*> weight_gauges_;
  std::vector<prometheus::Gauge*> endpoint_gauges_;
};

}  // namespace llmops::router
