#include "router/routing_table.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace llmops::router {

const RevisionRoute* DeploymentRoute::revision(int number) const {
  for (const auto& route : revisions) {
    if (route.revision == number) return &route;
  }
  return nullptr;
}

std::optional<int> DeploymentRoute::effective_stable() const {
  if (stable_revision) return stable_revision;
  std::optional<int> best;
  int best_weight = -1;
  for (const auto& route : revisions) {
    if (route.weight > best_weight) {
      best = route.revision;
      best_weight = route.weight;
    }
  }
  return best;
}

const DeploymentRoute* RoutingTable::find_model(const std::string& model) const {
  auto it = std::lower_bound(
      deployments.begin(), deployments.end(), model,
      [](const DeploymentRoute& route, const std::string& name) { return route.model < name; });
  if (it == deployments.end() || it->model != model) return nullptr;
  return &*it;
}

RoutingTable normalize_table(std::vector<DeploymentRoute> deployments,
                             std::vector<std::string>* warnings) {
  RoutingTable table;
  std::set<std::string> models;
  for (auto& deployment : deployments) {
    const std::string where = "deployment \"" + deployment.name + "\"";
    if (deployment.model.empty()) throw std::invalid_argument(where + ": empty model name");
    std::sort(
        deployment.revisions.begin(), deployment.revisions.end(),
        [](const RevisionRoute& a, const RevisionRoute& b) { return a.revision < b.revision; });
    for (std::size_t i = 0; i < deployment.revisions.size(); ++i) {
      const auto& route = deployment.revisions[i];
      if (route.weight < 0) {
        throw std::invalid_argument(where + ": revision " + std::to_string(route.revision) +
                                    " has a negative weight");
      }
      if (i > 0 && deployment.revisions[i - 1].revision == route.revision) {
        throw std::invalid_argument(where + ": revision " + std::to_string(route.revision) +
                                    " is listed twice");
      }
    }
    if (!models.insert(deployment.model).second) {
      if (warnings) {
        warnings->push_back(where + " (namespace \"" + deployment.ns + "\") also serves model \"" +
                            deployment.model + "\"; ignored");
      }
      continue;
    }
    table.deployments.push_back(std::move(deployment));
  }
  std::sort(table.deployments.begin(), table.deployments.end(),
            [](const DeploymentRoute& a, const DeploymentRoute& b) { return a.model < b.model; });
  return table;
}

}  // namespace llmops::router
