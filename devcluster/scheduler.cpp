#include "scheduler.h"

#include <spdlog/spdlog.h>

#include "object_lifecycle.h"
#include "quantity.h"
#include "status.h"
#include "time_format.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

bool isTerminal(const Json& pod) {
  std::string phase = pod.contains("status") ? pod["status"].value("phase", "") : "";
  return phase == "Succeeded" || phase == "Failed";
}

ResourceAmounts allocatable(const Json& node) {
  ResourceAmounts amounts;
  if (!node.contains("status") || !node["status"].contains("allocatable")) return amounts;
  const Json& resources = node["status"]["allocatable"];
  auto text = [&](const char* name) {
    if (!resources.contains(name)) return std::string("0");
    return resources[name].is_string() ? resources[name].get<std::string>()
                                       : resources[name].dump();
  };
  amounts.cpuMillis = parseCpuMillis(text("cpu")).value_or(0);
  amounts.memoryBytes = parseBytes(text("memory")).value_or(0);
  return amounts;
}

std::string podKey(const Json& pod) {
  return pod["metadata"].value("namespace", "") + "/" + pod["metadata"].value("name", "");
}

}  // namespace

Placement placePod(const Json& pod, const std::vector<Json>& nodes, const std::vector<Json>& pods) {
  const ResourceAmounts wanted = podRequests(pod);
  std::optional<std::string> best;
  int64_t bestFreeCpu = -1;
  int lackCpu = 0, lackMemory = 0, notReady = 0;
  for (const auto& node : nodes) {
    const std::string name = node["metadata"].value("name", "");
    bool ready = false;
    if (node.contains("status") && node["status"].contains("conditions")) {
      for (const auto& condition : node["status"]["conditions"]) {
        ready = ready ||
                (condition.value("type", "") == "Ready" && condition.value("status", "") == "True");
      }
    }
    if (!ready || node["spec"].value("unschedulable", false)) {
      ++notReady;
      continue;
    }
    ResourceAmounts free = allocatable(node);
    for (const auto& other : pods) {
      if (other["spec"].value("nodeName", "") != name || isTerminal(other)) continue;
      if (podKey(other) == podKey(pod)) continue;
      ResourceAmounts used = podRequests(other);
      free.cpuMillis -= used.cpuMillis;
      free.memoryBytes -= used.memoryBytes;
    }
    bool fits = true;
    if (wanted.cpuMillis > free.cpuMillis) ++lackCpu, fits = false;
    if (wanted.memoryBytes > free.memoryBytes) ++lackMemory, fits = false;
    if (fits && free.cpuMillis > bestFreeCpu) {
      best = name;
      bestFreeCpu = free.cpuMillis;
    }
  }
  if (best) return {best, ""};
  std::string message = "0/" + std::to_string(nodes.size()) + " nodes are available:";
  std::vector<std::string> reasons;
  if (lackCpu) reasons.push_back(" " + std::to_string(lackCpu) + " Insufficient cpu");
  if (lackMemory) reasons.push_back(" " + std::to_string(lackMemory) + " Insufficient memory");
  if (notReady) reasons.push_back(" " + std::to_string(notReady) + " node(s) were not ready");
  if (reasons.empty()) reasons.push_back(" no nodes");
  for (size_t i = 0; i < reasons.size(); ++i) message += (i ? "," : "") + reasons[i];
  return {std::nullopt, message + "."};
}

void Scheduler::reportUnschedulable(const Json& pod, const std::string& message) {
  const auto& metadata = pod["metadata"];
  const std::string ns = metadata.value("namespace", ""), name = metadata.value("name", "");
  const std::string uid = metadata.value("uid", "");
  const std::string now = formatTimestamp(std::chrono::system_clock::now());
  bool recorded = false;
  if (pod.contains("status") && pod["status"].contains("conditions")) {
    for (const auto& condition : pod["status"]["conditions"]) {
      recorded = recorded || (condition.value("type", "") == "PodScheduled" &&
                              condition.value("status", "") == "False" &&
                              condition.value("message", "") == message);
    }
  }
  if (!recorded)
    client_.mergePatch(podPath(ns, name) + "/status",
                       {{"status",
                         {{"phase", "Pending"},
                          {"conditions", Json::array({{{"type", "PodScheduled"},
                                                       {"status", "False"},
                                                       {"reason", "Unschedulable"},
                                                       {"message", message},
                                                       {"lastProbeTime", nullptr},
                                                       {"lastTransitionTime", now}}})}}}});
  if (reported_[uid] == message) return;
  reported_[uid] = message;
  Json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", name + "." + randomNameSuffix()}, {"namespace", ns}}},
      {"involvedObject",
       {{"apiVersion", "v1"}, {"kind", "Pod"}, {"namespace", ns}, {"name", name}, {"uid", uid}}},
      {"reason", "FailedScheduling"},
      {"message", message},
      {"type", "Warning"},
      {"source", {{"component", "default-scheduler"}}},
      {"reportingComponent", "default-scheduler"},
      {"firstTimestamp", now},
      {"lastTimestamp", now},
      {"count", 1}};
  client_.create("/api/v1/namespaces/" + ns + "/events", event);
  spdlog::info("event=pod_unschedulable pod={}/{} message=\"{}\"", ns, name, message);
}

void Scheduler::step() {
  Json nodeItems = client_.list("/api/v1/nodes");
  std::vector<Json> nodes(nodeItems.begin(), nodeItems.end());
  Json podItems = client_.list("/api/v1/pods");
  std::vector<Json> pods(podItems.begin(), podItems.end());
  std::map<std::string, std::string> stillPending;  // forget pods that left the queue
  for (const auto& pod : pods) {
    auto reported = reported_.find(pod["metadata"].value("uid", ""));
    if (reported != reported_.end() && pod["spec"].value("nodeName", "").empty()) {
      stillPending.insert(*reported);
    }
  }
  reported_ = std::move(stillPending);
  for (auto& pod : pods) {
    const auto& metadata = pod["metadata"];
    if (!pod["spec"].value("nodeName", "").empty() || metadata.contains("deletionTimestamp") ||
        isTerminal(pod)) {
      continue;
    }
    if (pod["spec"].value("schedulerName", "default-scheduler") != "default-scheduler") continue;
    const std::string ns = metadata.value("namespace", ""), name = metadata.value("name", "");
    Placement placement = placePod(pod, nodes, pods);
    try {
      if (!placement.node) {
        reportUnschedulable(pod, placement.message);
        continue;
      }
      client_.create(
          podPath(ns, name) + "/binding",
          {{"apiVersion", "v1"},
           {"kind", "Binding"},
           {"metadata", {{"name", name}, {"namespace", ns}}},
           {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", *placement.node}}}});
      pod["spec"]["nodeName"] = *placement.node;  // later pods of this step see the room taken
      reported_.erase(metadata.value("uid", ""));
      spdlog::info("event=pod_bound pod={}/{} node={}", ns, name, *placement.node);
    } catch (const ApiError& error) {
      // The pod changed or went away meanwhile: the next step sees the new state.
      spdlog::info("event=schedule_skipped pod={}/{} error=\"{}\"", ns, name, error.what());
    }
  }
}

}  // namespace llmops::devcluster
