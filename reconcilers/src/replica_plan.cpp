#include "llmops/reconcilers/replica_plan.h"

#include <algorithm>
#include <set>

namespace llmops::reconcilers {

bool is_live(const ObservedPod& pod) {
  return !pod.deleting && pod.phase != "Failed" && pod.phase != "Succeeded";
}

std::optional<int> pod_index(const std::string& deployment, const ObservedPod& pod) {
  const std::string prefix = deployment + "-r" + std::to_string(pod.revision) + "-";
  if (pod.name.rfind(prefix, 0) != 0 || pod.name.size() == prefix.size()) return std::nullopt;
  const std::string digits = pod.name.substr(prefix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      digits.size() > 6) {
    return std::nullopt;
  }
  return std::stoi(digits);
}

ReplicaPlan plan_replicas(const std::string& deployment, const std::map<int64_t, int>& targets,
                          const std::vector<ObservedPod>& pods) {
  ReplicaPlan plan;
  for (const auto& [revision, target] : targets) {
    std::vector<const ObservedPod*> live;
    std::set<int> taken;
    for (const auto& pod : pods) {
      if (pod.revision != revision) continue;
      if (auto index = pod_index(deployment, pod)) taken.insert(*index);
      if (!pod.deleting && (pod.phase == "Failed" || pod.phase == "Succeeded")) {
        plan.remove.push_back(pod.name);  // replaced below: it no longer counts
      } else if (is_live(pod)) {
        live.push_back(&pod);
      }
    }
    if (static_cast<int>(live.size()) > target) {
      // Keep ready pods and low indexes; remove the rest.
      std::sort(live.begin(), live.end(), [&](const ObservedPod* a, const ObservedPod* b) {
        if (a->ready != b->ready) return a->ready;
        return pod_index(deployment, *a).value_or(1 << 30) <
               pod_index(deployment, *b).value_or(1 << 30);
      });
      for (std::size_t i = static_cast<std::size_t>(target); i < live.size(); ++i)
        plan.remove.push_back(live[i]->name);
    }
    // Smallest indexes no visible pod uses (terminating ones included, whose names are
    // still taken on the server).
    int missing = target - static_cast<int>(live.size());
    for (int index = 0; missing > 0; ++index) {
      if (taken.count(index)) continue;
      plan.create.emplace_back(revision, index);
      --missing;
    }
  }
  return plan;
}

int ready_count(const std::vector<ObservedPod>& pods, int64_t revision) {
  return static_cast<int>(std::count_if(pods.begin(), pods.end(), [&](const ObservedPod& pod) {
    return pod.revision == revision && is_live(pod) && pod.ready;
  }));
}

int live_count(const std::vector<ObservedPod>& pods, int64_t revision) {
  return static_cast<int>(std::count_if(pods.begin(), pods.end(), [&](const ObservedPod& pod) {
    return pod.revision == revision && is_live(pod);
  }));
}

}  // namespace llmops::reconcilers
