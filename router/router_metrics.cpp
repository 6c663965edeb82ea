#include "router/router_metrics.h"

#include <prometheus/text_serializer.h>

#include <sstream>

namespace llmops::router {

namespace {

prometheus::Histogram::BucketBoundaries latency_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
}

prometheus::Labels labels(const std::string& ns, const std::string& deployment,
                          const std::string& revision) {
  return {{"namespace", ns}, {"deployment", deployment}, {"revision", revision}};
}

}  // namespace

RouterMetrics::RouterMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("llmops_router_requests_total")
                    .Help("Responses returned to clients, by status code")
                    .Register(*registry_)),
      upstream_(prometheus::BuildCounter()
                    .Name("llmops_router_upstream_requests_total")
                    .Help("Attempts at pods by outcome (success, client_error, error, draining); "
                          "retried failures included")
                    .Register(*registry_)),
      duration_(prometheus::BuildHistogram()
                    .Name("llmops_router_request_duration_seconds")
                    .Help("From the request to the last byte returned to the client")
                    .Register(*registry_)),
      ttft_(prometheus::BuildHistogram()
                .Name("llmops_router_time_to_first_token_seconds")
                .Help("From the request to the first body bytes returned to the client")
                .Register(*registry_)),
      in_flight_(prometheus::BuildGauge()
                     .Name("llmops_router_in_flight_requests")
                     .Help("Requests being proxied")
                     .Register(*registry_)),
      retries_(prometheus::BuildCounter()
                   .Name("llmops_router_retries_total")
                   .Help("Failed attempts retried elsewhere, by the revision that failed")
                   .Register(*registry_)),
      ejections_(prometheus::BuildCounter()
                     .Name("llmops_router_ejections_total")
                     .Help("Pods ejected after repeated failures")
                     .Register(*registry_)),
      weight_(prometheus::BuildGauge()
                  .Name("llmops_router_revision_weight")
                  .Help("Traffic weight the router applies")
                  .Register(*registry_)),
      endpoints_(prometheus::BuildGauge()
                     .Name("llmops_router_endpoints")
                     .Help("Endpoints by state (ready, not_ready, ejected)")
                     .Register(*registry_)),
      table_updates_(prometheus::BuildGauge()
                         .Name("llmops_router_route_table_updates")
                         .Help("Route tables applied since start")
                         .Register(*registry_)
                         .Add({})) {}

RevisionMetrics& RouterMetrics::revision(const std::string& ns, const std::string& deployment,
                                         const std::string& revision) {
  std::lock_guard lock(mutex_);
  auto key = std::make_tuple(ns, deployment, revision);
  auto it = revisions_.find(key);
  if (it != revisions_.end()) return it->second;
  const auto base = labels(ns, deployment, revision);
  auto with = [&](const char* name, const char* value) {
    auto l = base;
    l[name] = value;
    return l;
  };
  RevisionMetrics metrics{
      &in_flight_.Add(base),
      &duration_.Add(base, latency_buckets()),
      &ttft_.Add(base, latency_buckets()),
      &retries_.Add(base),
      &ejections_.Add(base),
      &upstream_.Add(with("outcome", "success")),
      &upstream_.Add(with("outcome", "client_error")),
      &upstream_.Add(with("outcome", "error")),
      &upstream_.Add(with("outcome", "draining")),
  };
  return revisions_.emplace(key, metrics).first->second;
}

void RouterMetrics::count_upstream(RevisionMetrics& metrics, UpstreamOutcome outcome) {
  switch (outcome) {
    case UpstreamOutcome::kSuccess:
      metrics.upstream_success->Increment();
      break;
    case UpstreamOutcome::kClientError:
      metrics.upstream_client_error->Increment();
      break;
    case UpstreamOutcome::kError:
      metrics.upstream_error->Increment();
      break;
    case UpstreamOutcome::kDraining:
      metrics.upstream_draining->Increment();
      break;
  }
}

void RouterMetrics::count_response(const std::string& ns, const std::string& deployment,
                                   const std::string& revision, int code) {
  prometheus::Counter* counter = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto key = std::make_tuple(ns, deployment, revision, code);
    auto it = responses_.find(key);
    if (it == responses_.end()) {
      auto l = labels(ns, deployment, revision);
      l["code"] = std::to_string(code);
      it = responses_.emplace(key, &requests_.Add(l)).first;
    }
    counter = it->second;
  }
  counter->Increment();
}

void RouterMetrics::publish_table(const RoutingTable& table,
                                  const std::function<bool(const Endpoint&)>& ejected) {
  std::lock_guard lock(mutex_);
  for (auto* gauge : weight_gauges_) weight_.Remove(gauge);
  for (auto* gauge : endpoint_gauges_) endpoints_.Remove(gauge);
  weight_gauges_.clear();
  endpoint_gauges_.clear();
  for (const auto& deployment : table.deployments) {
    for (const auto& revision : deployment.revisions) {
      const auto base = labels(deployment.ns, deployment.name, std::to_string(revision.revision));
      auto& weight = weight_.Add(base);
      weight.Set(revision.weight);
      weight_gauges_.push_back(&weight);
      int ready = 0, not_ready = 0, out = 0;
      for (const auto& endpoint : revision.endpoints) {
        if (!endpoint.ready) {
          ++not_ready;
        } else if (ejected(endpoint)) {
          ++out;
        } else {
          ++ready;
        }
      }
      for (auto [state, count] :
           {std::pair{"ready", ready}, {"not_ready", not_ready}, {"ejected", out}}) {
        auto l = base;
        l["state"] = state;
        auto& gauge = endpoints_.Add(l);
        gauge.Set(count);
        endpoint_gauges_.push_back(&gauge);
      }
    }
  }
  table_updates_.Increment();
}

std::string RouterMetrics::serialize() const {
  prometheus::TextSerializer serializer;
  std::ostringstream out;
  serializer.Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace llmops::router
