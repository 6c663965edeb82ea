// Where the compute threads run and where the weights live: a pure function of the
// topology, the PUs this process may use, a thread count and a NUMA policy. It pins one
// thread per physical core (SMT siblings only when asked), filling a NUMA node's cores
// before the next, and says in `explanation` what it decided and why.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "topology_info.h"

namespace llmops::topology {

// --numa: `bind` copies the weights into memory on the threads' NUMA node, `interleave`
// spreads them page by page over the allowed nodes, `none` leaves the file mapping.
enum class NumaPolicy { Bind, Interleave, None };

std::string_view numa_policy_name(NumaPolicy policy);
// "bind" | "interleave" | "none"; throws std::invalid_argument otherwise.
NumaPolicy parse_numa_policy(std::string_view name);

struct ThreadPlacement {
  int pu = 0;         // OS index of the PU the pool thread is pinned to
  int core = 0;       // logical index of its core
  int numa_node = 0;  // OS index of its NUMA node, -1 when none
};

// With threads on several NUMA nodes, `bind` binds to the node holding at least this
// share of them, and interleaves over the threads' nodes otherwise (see placement.cpp).
inline constexpr double kDominantNodeShare = 0.75;

struct PlacementPlan {
  NumaPolicy requested_policy = NumaPolicy::None;
  // What memory gets: Bind to one node, Interleave over several, or None.
  NumaPolicy memory_policy = NumaPolicy::None;
  std::vector<int> memory_nodes;            // OS indexes; empty for None
  std::vector<ThreadPlacement> placements;  // index i: thread i of the pool (0 = caller)
  bool smt = false;                         // some threads share a physical core
  int allowed_cores = 0;                    // physical cores with an allowed PU
  std::vector<int> spare_pus;               // allowed PUs no compute thread uses (for I/O threads)
  std::string explanation;

  int threads() const { return static_cast<int>(placements.size()); }
  std::vector<int> pus() const;
  std::vector<int> thread_nodes() const;  // distinct NUMA nodes of the threads, ascending
};

// threads: 0 = one per allowed physical core (one per allowed PU with use_smt).
// Throws std::invalid_argument when allowed_pus is empty or names a PU the topology
// lacks, or when threads exceeds the allowed cores (PUs with use_smt).
PlacementPlan plan_placement(const TopologyInfo& topo, const std::vector<int>& allowed_pus,
                             int threads, NumaPolicy policy, bool use_smt = false);

nlohmann::json to_json(const PlacementPlan& plan);

}  // namespace llmops::topology
