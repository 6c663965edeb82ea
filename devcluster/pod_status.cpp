#include "pod_status.h"

#include "pod_network.h"
#include "quantity.h"
#include "time_format.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

Json terminated(const Termination& termination) {
  Json state = {{"exitCode", termination.exitCode},
                {"reason", termination.reason},
                {"startedAt", formatTimestamp(termination.startedAt)},
                {"finishedAt", formatTimestamp(termination.finishedAt)}};
  if (termination.signal) state["signal"] = termination.signal;
  if (!termination.message.empty()) state["message"] = termination.message;
  return state;
}

Json containerStatus(const ContainerRun& container, Clock::time_point now) {
  Json state, lastState = Json::object();
  if (container.pid > 0) {
    state = {{"running", {{"startedAt", formatTimestamp(container.startedAt)}}}};
    if (container.lastTermination) {
      lastState = {{"terminated", terminated(*container.lastTermination)}};
    }
  } else if (container.done && container.lastTermination) {
    state = {{"terminated", terminated(*container.lastTermination)}};
  } else {
    std::string reason = container.waitingReason, message = container.waitingMessage;
    if (container.lastTermination && container.nextStart > now) {
      reason = "CrashLoopBackOff";
      message = "back-off " + std::to_string(container.backoff.count() / 1000) +
                "s restarting failed container=" + container.name;
    }
    state = {{"waiting", {{"reason", reason}}}};
    if (!message.empty()) state["waiting"]["message"] = message;
    if (container.lastTermination) {
      lastState = {{"terminated", terminated(*container.lastTermination)}};
    }
  }
  Json status = {{"name", container.name},
                 {"image", container.image},
                 {"imageID", ""},
                 {"ready", container.ready},
                 {"started", container.pid > 0 && container.started},
                 {"restartCount", container.restartCount},
                 {"state", state},
                 {"lastState", lastState}};
  if (container.pid > 0) status["containerID"] = "process://" + std::to_string(container.pid);
  return status;
}

Json condition(const Json& old, const std::string& type, bool value, const std::string& reason,
               const std::string& now) {
  std::string transition = now;
  if (old.contains("conditions") && old["conditions"].is_array()) {
    for (const auto& previous : old["conditions"]) {
      if (previous.value("type", "") == type &&
          previous.value("status", "") == (value ? "True" : "False")) {
        transition = previous.value("lastTransitionTime", now);
      }
    }
  }
  Json result = {{"type", type},
                 {"status", value ? "True" : "False"},
                 {"lastProbeTime", nullptr},
                 {"lastTransitionTime", transition}};
  if (!value && !reason.empty()) result["reason"] = reason;
  return result;
}

}  // namespace

std::string podPhase(const Json& pod, const PodRun& run) {
  (void)pod;
  bool anyRunning = false, anyStarted = false, allDone = !run.containers.empty(),
       allSucceeded = true;
  for (const auto& container : run.containers) {
    anyRunning = anyRunning || container.pid > 0;
    anyStarted = anyStarted || container.everStarted;
    allDone = allDone && container.done;
    allSucceeded =
        allSucceeded && container.lastTermination && container.lastTermination->exitCode == 0;
  }
  if (allDone) return allSucceeded ? "Succeeded" : "Failed";
  if (anyRunning || anyStarted) return "Running";
  return "Pending";
}

Json podStatus(const Json& pod, const PodRun& run, Clock::time_point now) {
  const Json old = pod.value("status", Json::object());
  const std::string stamp = formatTimestamp(now);
  const std::string phase = podPhase(pod, run);
  bool allReady = !run.containers.empty();
  Json statuses = Json::array();
  for (const auto& container : run.containers) {
    allReady = allReady && container.ready;
    statuses.push_back(containerStatus(container, now));
  }
  const bool ready = allReady && phase == "Running" && !run.terminating;
  const std::string ip = formatIPv4(run.ip);
  return {{"phase", phase},
          {"conditions",
           Json::array({condition(old, "PodReadyToStartContainers", true, "", stamp),
                        condition(old, "Initialized", true, "", stamp),
                        condition(old, "Ready", ready, "ContainersNotReady", stamp),
                        condition(old, "ContainersReady", allReady, "ContainersNotReady", stamp),
                        condition(old, "PodScheduled", true, "", stamp)})},
          {"hostIP", "127.0.0.1"},
          {"hostIPs", Json::array({{{"ip", "127.0.0.1"}}})},
          {"podIP", ip},
          {"podIPs", Json::array({{{"ip", ip}}})},
          {"startTime", formatTimestamp(run.startTime)},
          {"qosClass", qosClass(pod)},
          {"containerStatuses", statuses}};
}

}  // namespace llmops::devcluster
