#include "llmops/reconcilers/replica_plan.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "llmops/reconcilers/pod_template.h"

namespace llmops::reconcilers {

bool is_live(const ObservedPod& pod) {
  return !pod.deleting && pod.phase != "Failed" && pod.phase != "Succeeded";
}

std::optional<int> pod_index(const std::string& deployment, const ObservedPod& pod) {
  // The digits after the last '-', if pod_name() gives this very name for them (long
  // deployment names are cut and hashed, so the prefix is not always the name).
  const auto dash = pod.name.rfind('-');
  if (dash == std::string::npos || dash + 1 == pod.name.size()) return std::nullopt;
  const std::string digits = pod.name.substr(dash + 1);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      digits.size() > 6) {
    return std::nullopt;
  }
  const int index = std::stoi(digits);
  try {
    if (pod_name(deployment, pod.revision, index) != pod.name) return std::nullopt;
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
  return index;
}

std::string pod_failure(const nlohmann::json& pod) {
  const nlohmann::json status = pod.value("status", nlohmann::json::object());
  if (!status.is_object()) return "";
  static const std::set<std::string> kFailing = {
      "CrashLoopBackOff",           "ErrImagePull",         "ImagePullBackOff", "InvalidImageName",
      "CreateContainerConfigError", "CreateContainerError", "RunContainerError"};
  for (const auto& container : status.value("containerStatuses", nlohmann::json::array())) {
    if (!container.is_object()) continue;
    const std::string name = container.value("name", "");
    const nlohmann::json state = container.value("state", nlohmann::json::object());
    const nlohmann::json last = container.value("lastState", nlohmann::json::object());
    std::string waiting;
    if (state.contains("waiting") && state["waiting"].is_object()) {
      waiting = state["waiting"].value("reason", "");
      if (!kFailing.count(waiting)) waiting.clear();
    }
    const nlohmann::json* terminated = nullptr;
    if (state.contains("terminated") && state["terminated"].is_object()) {
      terminated = &state["terminated"];
    } else if (last.contains("terminated") && last["terminated"].is_object()) {
      terminated = &last["terminated"];
    }
    const bool failed_exit = terminated && terminated->value("exitCode", 0) != 0;
    if (waiting.empty() && !failed_exit) continue;
    std::string text = "container " + name + ": " + (waiting.empty() ? "terminated" : waiting);
    if (!waiting.empty() && state["waiting"].value("message", "") != "" && !failed_exit) {
      text += ": " + state["waiting"].value("message", "");
    }
    if (failed_exit) {
      text += "; last exit code " + std::to_string(terminated->value("exitCode", 0));
      if (const std::string reason = terminated->value("reason", ""); !reason.empty())
        text += " (" + reason + ")";
      if (const std::string message = terminated->value("message", ""); !message.empty()) {
        // The runtime's last lines: the one that says why, trimmed to a readable size.
        std::string trimmed = message.substr(0, 1024);
        while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' '))
          trimmed.pop_back();
        text += ": " + trimmed;
      }
    }
    return text;
  }
  return "";
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
