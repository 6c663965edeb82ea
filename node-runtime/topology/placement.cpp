#include "placement.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

namespace llmops::topology {

namespace {

// A physical core with at least one PU this process may use.
struct UsableCore {
  const CoreInfo* core;
  std::vector<int> pus;  // its allowed PUs, ascending
};

// Cores in fill order: NUMA node by node (ascending OS index), cores of a node in
// logical order, cores without a NUMA node last.
std::vector<UsableCore> usable_cores(const TopologyInfo& topo, const std::set<int>& allowed) {
  std::vector<int> node_order;
  for (const NumaNodeInfo& node : topo.numa_nodes) node_order.push_back(node.os_index);
  std::sort(node_order.begin(), node_order.end());
  node_order.push_back(-1);
  std::vector<UsableCore> out;
  for (int node : node_order) {
    for (const CoreInfo& core : topo.cores) {
      if (core.numa_node != node) continue;
      UsableCore usable{&core, {}};
      for (int pu : core.pus) {
        if (allowed.count(pu)) usable.pus.push_back(pu);
      }
      if (!usable.pus.empty()) out.push_back(std::move(usable));
    }
  }
  return out;
}

std::string threads_by_node(const std::map<int, int>& counts) {
  std::string out;
  for (const auto& [node, n] : counts) {
    if (!out.empty()) out += ", ";
    out += (node < 0 ? std::string("no node") : "node " + std::to_string(node)) + ": " +
           std::to_string(n);
  }
  return out;
}

// Decides where memory goes for `bind` and says why in `why`.
//
// Threads on several NUMA nodes: we do not replicate the weights per node. A replica
// costs the weights' size once more per node, and only pays if each node's threads read
// their own copy, which needs per-node views down in the kernels. Instead, when one
// node holds at least kDominantNodeShare of the threads we bind there: most of the
// stream is local and the few remote threads pay latency on their own rows only. When
// the threads are more evenly split, one node's memory controllers would have to feed
// every thread (capping decode, which is bandwidth-bound, at one node's bandwidth), so
// we interleave pages over the threads' nodes and use all their controllers.
void decide_bind(const std::map<int, int>& counts, int threads,
                 const std::vector<int>& allowed_nodes, PlacementPlan& plan, std::string& why) {
  std::map<int, int> usable;  // threads per node whose memory we may use
  for (const auto& [node, n] : counts) {
    if (node >= 0 && (allowed_nodes.empty() ||
                      std::count(allowed_nodes.begin(), allowed_nodes.end(), node) > 0)) {
      usable[node] = n;
    }
  }
  if (usable.empty()) {
    plan.memory_policy = NumaPolicy::None;
    why =
        "bind requested but the threads' cores have no NUMA node this process may "
        "allocate on: weights left in the file mapping";
    return;
  }
  if (usable.size() == 1) {
    plan.memory_policy = NumaPolicy::Bind;
    plan.memory_nodes = {usable.begin()->first};
    why = "weights copied into memory bound to NUMA node " + std::to_string(usable.begin()->first) +
          ", local to the threads";
    return;
  }
  auto dominant = usable.begin();  // most threads; the lowest OS index on ties
  for (auto it = usable.begin(); it != usable.end(); ++it) {
    if (it->second > dominant->second) dominant = it;
  }
  const double share = static_cast<double>(dominant->second) / threads;
  if (share >= kDominantNodeShare) {
    plan.memory_policy = NumaPolicy::Bind;
    plan.memory_nodes = {dominant->first};
    why = "threads span NUMA nodes (" + threads_by_node(counts) + "); node " +
          std::to_string(dominant->first) + " holds " + std::to_string(dominant->second) + " of " +
          std::to_string(threads) +
          " (>= 75%), so weights are copied into memory bound to it and the other threads "
          "read remotely; no per-node replica";
    return;
  }
  plan.memory_policy = NumaPolicy::Interleave;
  for (const auto& entry : usable) plan.memory_nodes.push_back(entry.first);
  why = "threads span NUMA nodes (" + threads_by_node(counts) +
        ") with none holding 75%: binding to one node would make its memory feed every "
        "thread, so weights are copied into memory interleaved over nodes " +
        format_index_list(plan.memory_nodes) + " (one copy, no per-node replica)";
}

}  // namespace

std::string_view numa_policy_name(NumaPolicy policy) {
  switch (policy) {
    case NumaPolicy::Bind:
      return "bind";
    case NumaPolicy::Interleave:
      return "interleave";
    case NumaPolicy::None:
      return "none";
  }
  return "none";
}

NumaPolicy parse_numa_policy(std::string_view name) {
  if (name == "bind") return NumaPolicy::Bind;
  if (name == "interleave") return NumaPolicy::Interleave;
  if (name == "none") return NumaPolicy::None;
  throw std::invalid_argument("NUMA policy must be bind, interleave or none, got '" +
                              std::string(name) + "'");
}

std::vector<int> PlacementPlan::pus() const {
  std::vector<int> out;
  for (const ThreadPlacement& p : placements) out.push_back(p.pu);
  return out;
}

std::vector<int> PlacementPlan::thread_nodes() const {
  std::set<int> nodes;
  for (const ThreadPlacement& p : placements) nodes.insert(p.numa_node);
  return {nodes.begin(), nodes.end()};
}

PlacementPlan plan_placement(const TopologyInfo& topo, const std::vector<int>& allowed_pus,
                             int threads, NumaPolicy policy, bool use_smt) {
  if (threads < 0) {
    throw std::invalid_argument("threads must be >= 0 (0 = one per physical core), got " +
                                std::to_string(threads));
  }
  if (allowed_pus.empty()) throw std::invalid_argument("no allowed PU to place threads on");
  std::set<int> known;
  for (const CoreInfo& core : topo.cores) known.insert(core.pus.begin(), core.pus.end());
  for (int pu : allowed_pus) {
    if (!known.count(pu)) {
      throw std::invalid_argument("allowed PU " + std::to_string(pu) + " is not in the topology (" +
                                  topo.source + ")");
    }
  }
  const std::set<int> allowed(allowed_pus.begin(), allowed_pus.end());
  const std::vector<UsableCore> cores = usable_cores(topo, allowed);
  const int core_count = static_cast<int>(cores.size());
  const int pu_count = static_cast<int>(allowed.size());
  const int wanted = threads > 0 ? threads : (use_smt ? pu_count : core_count);
  const std::string where = std::to_string(core_count) + " physical cores (" +
                            std::to_string(pu_count) + " PUs: " + format_index_list(allowed_pus) +
                            ")";
  if (!use_smt && wanted > core_count) {
    throw std::invalid_argument(
        "threads=" + std::to_string(wanted) + " exceeds the " + where +
        " this process may use; one thread per physical core, SMT siblings left out");
  }
  if (use_smt && wanted > pu_count) {
    throw std::invalid_argument("threads=" + std::to_string(wanted) + " exceeds the " + where +
                                " this process may use, SMT siblings included");
  }

  PlacementPlan plan;
  plan.requested_policy = policy;
  plan.allowed_cores = core_count;
  // First one PU on every core (node by node), then the second siblings, and so on: a
  // thread shares a core only when every allowed core already has one.
  for (size_t rank = 0; static_cast<int>(plan.placements.size()) < wanted; ++rank) {
    for (const UsableCore& core : cores) {
      if (static_cast<int>(plan.placements.size()) == wanted) break;
      if (rank < core.pus.size()) {
        plan.placements.push_back({core.pus[rank], core.core->logical_index, core.core->numa_node});
      }
    }
  }
  std::set<int> used_cores;
  std::map<int, int> counts;  // threads per NUMA node
  for (const ThreadPlacement& p : plan.placements) {
    plan.smt = plan.smt || !used_cores.insert(p.core).second;
    ++counts[p.numa_node];
  }
  const std::vector<int> pus = plan.pus();
  for (int pu : allowed) {
    if (std::find(pus.begin(), pus.end(), pu) == pus.end()) plan.spare_pus.push_back(pu);
  }

  std::string memory;
  switch (policy) {
    case NumaPolicy::None:
      memory = "weights left in the file mapping (page cache, wherever first read)";
      break;
    case NumaPolicy::Interleave:
      plan.memory_policy = NumaPolicy::Interleave;
      if (!topo.allowed_numa_nodes.empty()) {
        plan.memory_nodes = topo.allowed_numa_nodes;
      } else {
        for (const NumaNodeInfo& node : topo.numa_nodes) plan.memory_nodes.push_back(node.os_index);
      }
      std::sort(plan.memory_nodes.begin(), plan.memory_nodes.end());
      memory = "weights copied into memory interleaved over the allowed NUMA nodes " +
               format_index_list(plan.memory_nodes);
      break;
    case NumaPolicy::Bind:
      decide_bind(counts, wanted, topo.allowed_numa_nodes, plan, memory);
      break;
  }
  plan.explanation = std::to_string(wanted) + " threads pinned to PUs " + format_index_list(pus) +
                     (plan.smt ? " (SMT siblings used)" : " (one per physical core)") + " of " +
                     where + "; threads by NUMA node: " + threads_by_node(counts) +
                     "; memory: " + memory;
  return plan;
}

nlohmann::json to_json(const PlacementPlan& plan) {
  nlohmann::json threads = nlohmann::json::array();
  for (const ThreadPlacement& p : plan.placements) {
    threads.push_back({{"pu", p.pu}, {"core", p.core}, {"numa_node", p.numa_node}});
  }
  return {{"threads", plan.threads()},
          {"pus", format_index_list(plan.pus())},
          {"smt", plan.smt},
          {"allowed_cores", plan.allowed_cores},
          {"thread_placement", threads},
          {"spare_pus", format_index_list(plan.spare_pus)},
          {"numa", std::string(numa_policy_name(plan.requested_policy))},
          {"memory_policy", std::string(numa_policy_name(plan.memory_policy))},
          {"memory_nodes", plan.memory_nodes},
          {"explanation", plan.explanation}};
}

}  // namespace llmops::topology
