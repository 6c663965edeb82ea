// A fake world for the rollout state machine: an LLMDeployment whose status is whatever the
// last decision wrote, Pods that appear when the decision creates them (not ready until a
// test says so) and vanish when it deletes them, and a clock the test moves. Each tick() is
// one reconcile. No network, no sleeping.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "llmops/reconcilers/rollout.h"

namespace llmops::reconcilers::testing {

using nlohmann::json;
using namespace std::chrono_literals;

inline TimePoint start_time() {
  return TimePoint(std::chrono::seconds(1'800'000'000));
}

inline json model_of(const std::string& version) {
  return {{"name", "story"}, {"uri", "file:///models/story-" + version + ".gguf"}};
}

// A deployment with 4 replicas and the steps setWeight 25, pause 10s, analysis,
// setWeight 50, pause {} (indefinite); analysis every 5s, 2 samples, failureLimit 0.
inline json sample_deployment() {
  return {{"apiVersion", "llmops.dev/v1alpha1"},
          {"kind", "LLMDeployment"},
          {"metadata",
           {{"name", "story"}, {"namespace", "default"}, {"uid", "uid-1"}, {"generation", 1}}},
          {"spec",
           {{"replicas", 4},
            {"model", model_of("v1")},
            {"runtime", {{"image", "llmops-runtime"}, {"maxBatch", 4}}},
            {"rollout",
             {{"steps", json::array({{{"setWeight", 25}},
                                     {{"pause", {{"duration", "10s"}}}},
                                     {{"analysis", json::object()}},
                                     {{"setWeight", 50}},
                                     {{"pause", json::object()}}})},
              {"analysis",
               {{"interval", "5s"},
                {"count", 2},
                {"failureLimit", 0},
                {"noData", "Inconclusive"},
                {"metrics", json::array({{{"name", "error-rate"}, {"max", 0.05}},
                                         {{"name", "ttft-p95-seconds"}, {"max", 1.0}}})}}},
              {"progressDeadlineSeconds", 60}}}}}};
}

inline Measurement healthy_measurement(TimePoint time) {
  return {time, {{"error-rate", 0.0}, {"ttft-p95-seconds", 0.2}}};
}
inline Measurement failing_measurement(TimePoint time) {
  return {time, {{"error-rate", 0.5}, {"ttft-p95-seconds", 0.2}}};
}
inline Measurement empty_measurement(TimePoint time) {
  return {time, {{"error-rate", std::nullopt}, {"ttft-p95-seconds", std::nullopt}}};
}

class World {
 public:
  explicit World(json deployment = sample_deployment()) : deployment(std::move(deployment)) {}

  json deployment;
  std::vector<ObservedPod> pods;
  TimePoint now = start_time();
  ReconcileOptions options = [] {
    ReconcileOptions o;
    o.scale_down_delay = 30s;
    return o;
  }();
  ReconcileDecision last;
  std::vector<RolloutEvent> events;  // every event so far
  bool auto_ready = true;            // created pods become ready at the next tick

  // One reconcile; applies what it decided (status, pods) unless a crash is simulated.
  const ReconcileDecision& tick(std::optional<Measurement> measurement = std::nullopt,
                                bool apply_status = true, bool apply_pods = true) {
    if (auto_ready) {
      for (auto& pod : pods) {
        if (!pod.deleting && pod.phase == "Pending") {
          pod.phase = "Running";
          pod.ready = true;
        }
      }
    }
    ReconcileInput input{deployment, pods, std::move(measurement), now, options};
    last = reconcile_deployment(input);
    events.insert(events.end(), last.events.begin(), last.events.end());
    if (apply_status) deployment["status"] = json::parse(last.status_json.dump());
    if (apply_pods) {
      for (const auto& name : last.remove) {
        pods.erase(std::remove_if(pods.begin(), pods.end(),
                                  [&](const ObservedPod& pod) { return pod.name == name; }),
                   pods.end());
      }
      for (const auto& manifest : last.create) {
        const std::string name = manifest["metadata"]["name"];
        if (find(name)) continue;  // 409 AlreadyExists
        ObservedPod pod;
        pod.name = name;
        pod.revision =
            std::stoll(manifest["metadata"]["labels"]["llmops.dev/revision"].get<std::string>());
        pod.track = manifest["metadata"]["labels"]["llmops.dev/track"];
        pod.phase = "Pending";
        pod.created = now;
        pods.push_back(pod);
      }
      for (const auto& relabel : last.relabel)
        if (ObservedPod* pod = find(relabel.name)) pod->track = relabel.track;
    }
    return last;
  }

  // Ticks until the decision stops changing status and pods (at most `limit` ticks).
  void settle(int limit = 10) {
    for (int i = 0; i < limit; ++i) {
      tick();
      if (!last.status_changed && last.create.empty() && last.remove.empty()) return;
    }
  }

  void advance(std::chrono::milliseconds delta) { now += delta; }

  // Runs the analysis sample that is due: moves the clock to it and feeds `make(time)`.
  void sample(Measurement (*make)(TimePoint)) {
    auto due = analysis_schedule(deployment, now);
    ASSERT_TRUE(due.has_value()) << "no analysis step running";
    if (due->due > now) now = due->due;
    tick(make(now));
  }

  void edit_spec(const std::function<void(json&)>& change) {
    change(deployment["spec"]);
    deployment["metadata"]["generation"] = deployment["metadata"]["generation"].get<int>() + 1;
  }

  ObservedPod* find(const std::string& name) {
    for (auto& pod : pods)
      if (pod.name == name) return &pod;
    return nullptr;
  }
  int pod_count(int64_t revision) const {
    return static_cast<int>(std::count_if(pods.begin(), pods.end(), [&](const ObservedPod& pod) {
      return pod.revision == revision && !pod.deleting;
    }));
  }
  const json& status() const { return deployment["status"]; }
  std::string phase() const { return status().value("phase", ""); }
  std::optional<int64_t> canary() const {
    if (!status().contains("canaryRevision")) return std::nullopt;
    return status()["canaryRevision"].get<int64_t>();
  }
  int64_t stable() const { return status().value("stableRevision", int64_t{0}); }
  int step() const { return status().value("currentStep", 0); }
  std::map<int64_t, int> traffic() const {
    std::map<int64_t, int> out;
    for (const auto& share : status()["traffic"]) out[share["revision"]] = share["weight"];
    return out;
  }
  std::string condition_reason(const std::string& type) const {
    for (const auto& condition : status()["conditions"])
      if (condition["type"] == type) return condition.value("reason", "");
    return "";
  }
  std::string condition_message(const std::string& type) const {
    for (const auto& condition : status()["conditions"])
      if (condition["type"] == type) return condition.value("message", "");
    return "";
  }
  bool has_event(const std::string& reason) const {
    return std::any_of(events.begin(), events.end(),
                       [&](const RolloutEvent& e) { return e.reason == reason; });
  }
};

}  // namespace llmops::reconcilers::testing
