#include "topology_info.h"

#include <algorithm>

namespace llmops::topology {

int TopologyInfo::pu_count() const {
  int n = 0;
  for (const CoreInfo& core : cores) n += static_cast<int>(core.pus.size());
  return n;
}

std::string format_index_list(const std::vector<int>& indexes) {
  std::vector<int> sorted = indexes;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string out;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(sorted[i]);
    if (j > i) out += '-' + std::to_string(sorted[j]);
    i = j + 1;
  }
  return out;
}

nlohmann::json to_json(const TopologyInfo& topo) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const NumaNodeInfo& node : topo.numa_nodes) {
    nodes.push_back({{"os_index", node.os_index},
                     {"local_memory_bytes", node.local_memory_bytes},
                     {"pus", format_index_list(node.pus)}});
  }
  nlohmann::json cores = nlohmann::json::array();
  for (const CoreInfo& core : topo.cores) {
    cores.push_back({{"core", core.logical_index},
                     {"package", core.package},
                     {"numa_node", core.numa_node},
                     {"pus", core.pus}});
  }
  return {{"source", topo.source},
          {"packages", topo.packages},
          {"numa_nodes", nodes},
          {"cores", cores},
          {"pus", topo.pu_count()},
          {"allowed_pus", format_index_list(topo.allowed_pus)},
          {"allowed_numa_nodes", format_index_list(topo.allowed_numa_nodes)}};
}

}  // namespace llmops::topology
