// The devcluster's nodes: N Node objects sharing the machine's CPUs and memory, each
// heartbeating through a Lease in kube-node-lease (owned by its Node) and keeping its
// Ready condition fresh, as a kubelet does. `llmops-devcluster kubelet` registers its one
// node of a real cluster with the same code.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api_client.h"

namespace llmops::devcluster {

struct MachineCapacity {
  int64_t cpuMillis = 0;
  int64_t memoryBytes = 0;
};

// Online CPUs this process may use and the physical memory (sysconf).
MachineCapacity machineCapacity();
// The capacity of each of `nodes` nodes: whole CPUs split as evenly as possible (every
// node gets at least one), memory split evenly.
std::vector<MachineCapacity> splitCapacity(const MachineCapacity& machine, int nodes);
std::string nodeName(int index);  // "devcluster-node-1"...

struct NodeControllerOptions {
  int nodes = 1;
  std::string podCidr;  // spec.podCIDR; empty: not set
  std::chrono::seconds leaseDuration{40};
  std::chrono::seconds heartbeatInterval{10};
  // Node names; empty: devcluster-node-1..N. Non-empty: exactly these (nodes is ignored).
  std::vector<std::string> names;
  nlohmann::json labels = {{"node.llmops.dev/devcluster", "true"}};  // beside hostname, os
  std::string kubeletVersion = "v1.32.0-llmops-devcluster";
  int kubeletPort = 0;  // status.daemonEndpoints (where the API server fetches logs); 0: none
};

class NodeController {
 public:
  NodeController(ApiClient& client, NodeControllerOptions options);
  std::vector<std::string> nodeNames() const;
  // Creates missing nodes, renews leases and refreshes the Ready condition when due.
  void step();

 private:
  nlohmann::json nodeObject(int index) const;
  void renewLease(const std::string& name, const nlohmann::json& node);
  void refreshStatus(int index, const nlohmann::json& node);

  ApiClient& client_;
  NodeControllerOptions options_;
  std::vector<MachineCapacity> capacities_;
  std::map<std::string, std::chrono::steady_clock::time_point> lastHeartbeat_;
};

}  // namespace llmops::devcluster
