// Records core/v1 Events about objects, as kubectl describe shows them. Repeats of the
// same event (same object, type, reason and message) are aggregated into one Event whose
// count and lastTimestamp grow (a merge patch), instead of a new Event each time.
// Recording never throws: a failed write is logged and dropped.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "llmops/kube/clock.h"
#include "llmops/kube/kube_client.h"

namespace llmops::kube {

class EventRecorder {
 public:
  EventRecorder(std::shared_ptr<KubeClient> client, std::string component, std::string instance,
                std::shared_ptr<Clock> clock = real_clock());

  // type: "Normal" or "Warning"; reason: UpperCamelCase; involved: the object as read.
  void record(const nlohmann::json& involved, const std::string& type, const std::string& reason,
              const std::string& message);

 private:
  struct Seen {
    std::string name;
    std::string ns;
    int count = 0;
  };

  std::shared_ptr<KubeClient> client_;
  std::string component_;
  std::string instance_;
  std::shared_ptr<Clock> clock_;
  std::mutex mutex_;
  std::unordered_map<std::string, Seen> seen_;
};

}  // namespace llmops::kube
