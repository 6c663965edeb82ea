// The scheduler: binds each pending Pod (no nodeName, default scheduler) to the node
// with the most free CPU among those with room for its CPU and memory requests, through
// pods/binding; a Pod that fits nowhere stays Pending with PodScheduled=False and a
// FailedScheduling event.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "local_client.h"

namespace llmops::devcluster {

struct Placement {
  std::optional<std::string> node;  // nullopt: unschedulable, see message
  std::string message;
};

// Pure: where `pod` goes given the nodes (with status.allocatable) and every pod.
Placement placePod(const nlohmann::json& pod, const std::vector<nlohmann::json>& nodes,
                   const std::vector<nlohmann::json>& pods);

class Scheduler {
 public:
  explicit Scheduler(LocalClient& client) : client_(client) {}
  void step();

 private:
  void reportUnschedulable(const nlohmann::json& pod, const std::string& message);

  LocalClient& client_;
  std::map<std::string, std::string> reported_;  // pod uid -> last message sent as event
};

}  // namespace llmops::devcluster
