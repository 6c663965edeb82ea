// A plain snapshot of a machine's topology: packages, NUMA nodes, physical cores with
// their PUs (hardware threads, by OS index) and what this process may use. Extracted
// from hwloc by topology.h, so that placement.h can be tested without hwloc.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace llmops::topology {

struct NumaNodeInfo {
  int os_index = 0;
  uint64_t local_memory_bytes = 0;
  std::vector<int> pus;  // OS indexes of the PUs whose local memory this is, ascending
};

struct CoreInfo {
  int logical_index = 0;  // hwloc's logical index: cores of a node are contiguous
  int package = -1;       // logical index of its package, -1 when hwloc knows none
  int numa_node = -1;     // OS index of its local NUMA node, -1 when none
  std::vector<int> pus;   // OS indexes of its PUs (SMT siblings), ascending
};

struct TopologyInfo {
  std::string source;  // "this-system", "synthetic:<description>" or "xml"
  int packages = 0;
  std::vector<NumaNodeInfo> numa_nodes;  // by OS index
  std::vector<CoreInfo> cores;           // in logical order
  // What this process may use: the cgroup cpuset intersected with its affinity mask
  // (for synthetic and XML topologies: everything), and the cgroup's memory nodes.
  std::vector<int> allowed_pus;
  std::vector<int> allowed_numa_nodes;

  int pu_count() const;
};

// "0-3,8,10-11" for {0,1,2,3,8,10,11}: how hwloc and the kernel print cpusets.
std::string format_index_list(const std::vector<int>& indexes);

nlohmann::json to_json(const TopologyInfo& topo);

}  // namespace llmops::topology
