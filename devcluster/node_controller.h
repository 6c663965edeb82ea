// The devcluster's nodes: N Node objects sharing the machine's CPUs and memory, each
// heartbeating through a Lease in kube-node-lease and keeping its Ready condition fresh,
// as a kubelet does.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "local_client.h"

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
  std::string podCidr;
  std::chrono::seconds leaseDuration{40};
  std::chrono::seconds heartbeatInterval{10};
};

class NodeController {
 public:
  NodeController(LocalClient& client, NodeControllerOptions options);
  std::vector<std::string> nodeNames() const;
  // Creates missing nodes, renews leases and refreshes the Ready condition when due.
  void step();

 private:
  nlohmann::json nodeObject(int index) const;
  void renewLease(const std::string& name);
  void refreshStatus(int index, const nlohmann::json& node);

  LocalClient& client_;
  NodeControllerOptions options_;
  std::vector<MachineCapacity> capacities_;
  std::map<std::string, std::chrono::steady_clock::time_point> lastHeartbeat_;
};

}  // namespace llmops::devcluster
