// The routing decisions of the data plane, without sockets: holds the current table,
// one TrafficSplit per deployment and the EndpointBalancer, and answers "which pod
// next?" for a request, for its retry, and for a retry of a failed canary on stable.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "router/endpoint_balancer.h"
#include "router/routing_table.h"
#include "router/traffic_split.h"

namespace llmops::router {

struct Choice {
  int revision = 0;
  Endpoint endpoint;
};

class RequestRouter {
 public:
  explicit RequestRouter(EjectionPolicy policy = {}, EndpointBalancer::Clock clock = nullptr);

  // Replaces the table; round-robin state survives for unchanged weights.
  void apply(RoutingTable table);
  std::shared_ptr<const RoutingTable> table() const;

  // A revision by weight (sticky when `session` is non-empty) among those with a ready
  // pod not in `exclude`, then its least-loaded pod, ejected ones only when nothing else
  // is left (ejection steers within a revision, never changes the split). When no
  // weighted revision has a ready pod, the stable revision's pods (even at weight 0);
  // nullopt when there are none either.
  std::optional<Choice> choose(const DeploymentRoute& deployment, const std::string& session,
                               const std::set<std::string>& exclude);
  // A pod of `revision` only (weight not required), e.g. stable for a failed canary.
  std::optional<Choice> choose_in(const DeploymentRoute& deployment, int revision,
                                  const std::set<std::string>& exclude);

  EndpointBalancer& balancer() { return balancer_; }

 private:
  TrafficSplit& split_for(const DeploymentRoute& deployment);

  EndpointBalancer balancer_;
  mutable std::mutex mutex_;
  std::shared_ptr<const RoutingTable> table_;
  std::map<std::string, std::unique_ptr<TrafficSplit>> splits_;  // by ns/name
};

}  // namespace llmops::router
