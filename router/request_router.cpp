#include "router/request_router.h"

namespace llmops::router {

namespace {
std::string key_of(const DeploymentRoute& deployment) {
  return deployment.ns + "/" + deployment.name;
}
}  // namespace

RequestRouter::RequestRouter(EjectionPolicy policy, EndpointBalancer::Clock clock)
    : balancer_(policy, std::move(clock)), table_(std::make_shared<RoutingTable>()) {}

void RequestRouter::apply(RoutingTable table) {
  auto next = std::make_shared<const RoutingTable>(std::move(table));
  std::set<std::string> addresses;
  std::set<std::string> keys;
  {
    std::lock_guard lock(mutex_);
    for (const auto& deployment : next->deployments) {
      std::vector<std::pair<int, int>> weights;
      for (const auto& revision : deployment.revisions) {
        weights.emplace_back(revision.revision, revision.weight);
        for (const auto& endpoint : revision.endpoints) addresses.insert(endpoint.address());
      }
      auto& split = splits_[key_of(deployment)];
      if (!split) split = std::make_unique<TrafficSplit>();
      split->set_weights(std::move(weights));
      keys.insert(key_of(deployment));
    }
    std::erase_if(splits_, [&](const auto& entry) { return !keys.count(entry.first); });
    table_ = next;
  }
  balancer_.retain(addresses);
}

std::shared_ptr<const RoutingTable> RequestRouter::table() const {
  std::lock_guard lock(mutex_);
  return table_;
}

TrafficSplit& RequestRouter::split_for(const DeploymentRoute& deployment) {
  std::lock_guard lock(mutex_);
  auto& split = splits_[key_of(deployment)];
  if (!split) {
    // A table swapped after the caller looked the deployment up: start from its weights.
    split = std::make_unique<TrafficSplit>();
    std::vector<std::pair<int, int>> weights;
    for (const auto& revision : deployment.revisions)
      weights.emplace_back(revision.revision, revision.weight);
    split->set_weights(std::move(weights));
  }
  return *split;
}

std::optional<Choice> RequestRouter::choose(const DeploymentRoute& deployment,
                                            const std::string& session,
                                            const std::set<std::string>& exclude) {
  // A revision with weight and a ready pod gets its share even when all its pods are
  // ejected: the weights are the operator's decision (and the canary analysis needs the
  // canary's traffic to judge it); retries protect the clients, ejection only steers
  // requests among a revision's pods.
  auto serviceable = [&](int number) {
    const RevisionRoute* revision = deployment.revision(number);
    if (!revision) return false;
    for (const auto& endpoint : revision->endpoints) {
      if (endpoint.ready && !exclude.count(endpoint.address())) return true;
    }
    return false;
  };
  TrafficSplit& split = split_for(deployment);
  const std::optional<int> chosen =
      session.empty() ? split.next(serviceable) : split.for_session(session, serviceable);
  if (chosen) return choose_in(deployment, *chosen, exclude);
  // No weighted revision can serve (say a canary at 100% lost its pods): a ready pod of
  // the stable revision, even at weight 0, beats failing the request.
  if (const auto stable = deployment.effective_stable())
    return choose_in(deployment, *stable, exclude);
  return std::nullopt;
}

std::optional<Choice> RequestRouter::choose_in(const DeploymentRoute& deployment, int number,
                                               const std::set<std::string>& exclude) {
  const RevisionRoute* revision = deployment.revision(number);
  if (!revision) return std::nullopt;
  for (bool allow_ejected : {false, true}) {
    if (auto endpoint = balancer_.pick(revision->endpoints, exclude, allow_ejected)) {
      return Choice{number, *endpoint};
    }
  }
  return std::nullopt;
}

}  // namespace llmops::router
