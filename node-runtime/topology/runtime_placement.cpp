#include "runtime_placement.h"

#include <spdlog/spdlog.h>

namespace llmops::topology {

RuntimePlacement plan_this_process(int threads, NumaPolicy policy) {
  RuntimePlacement placement;
  placement.topology = Topology::this_system();
  const TopologyInfo& info = placement.topology->info();
  placement.plan = plan_placement(info, info.allowed_pus, threads, policy);
  return placement;
}

void apply_placement(RuntimePlacement& placement, engine::ThreadPool& pool, engine::Model& model) {
  pin_pool_threads(pool, *placement.topology, placement.plan);
  placement.pinned = true;
  placement.memory = bind_model_weights(model, placement.topology, placement.plan);
  spdlog::info("{}", log_line(placement));
}

void move_off_compute_pus(const RuntimePlacement& placement) {
  const std::vector<int>& spare = placement.plan.spare_pus;
  bind_current_thread(*placement.topology,
                      spare.empty() ? placement.topology->info().allowed_pus : spare);
}

nlohmann::json to_json(const RuntimePlacement& placement) {
  return {{"plan", to_json(placement.plan)},
          {"pinned", placement.pinned},
          {"memory", to_json(placement.memory)}};
}

std::string log_line(const RuntimePlacement& placement) {
  const PlacementPlan& plan = placement.plan;
  const MemoryBinding& memory = placement.memory;
  std::string landed;
  for (const auto& [node, bytes] : memory.bytes_by_node) {
    if (!landed.empty()) landed += ',';
    landed += std::to_string(node) + ":" + std::to_string(bytes);
  }
  return "placement threads=" + std::to_string(plan.threads()) +
         " pus=" + format_index_list(plan.pus()) + " smt=" + (plan.smt ? "true" : "false") +
         " pinned=" + (placement.pinned ? "true" : "false") +
         " numa=" + std::string(numa_policy_name(plan.requested_policy)) +
         " memory_policy=" + std::string(numa_policy_name(memory.policy)) +
         " memory_nodes=" + format_index_list(plan.memory_nodes) + " method=" + memory.method +
         " bound_bytes=" + std::to_string(memory.bytes) +
         " landed=" + (landed.empty() ? "-" : landed) + " explanation=\"" + plan.explanation + "\"";
}

}  // namespace llmops::topology
