// The runtime's placement, start to end: this machine's topology, the plan for
// --threads/--numa, then pinning the pool and binding the weights. What the CLI commands
// (serve, generate, bench, topology) share.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "binding.h"
#include "engine/model.h"
#include "engine/thread_pool.h"
#include "placement.h"
#include "topology.h"

namespace llmops::topology {

struct RuntimePlacement {
  std::shared_ptr<Topology> topology;
  PlacementPlan plan;
  bool pinned = false;
  MemoryBinding memory;  // filled by apply_placement
};

// Loads this system's topology and plans `threads` compute threads (0 = one per
// physical core this process may use). Throws std::invalid_argument (see plan_placement).
RuntimePlacement plan_this_process(int threads, NumaPolicy policy);

// Pins the pool's threads (the calling thread included: threads it starts afterwards
// inherit its PU), then binds the model's weights as planned. Logs one line.
void apply_placement(RuntimePlacement& placement, engine::ThreadPool& pool, engine::Model& model);

// Rebinds the calling thread to the PUs no compute thread uses (every allowed PU when
// there are none): for threads started afterwards, such as the HTTP server's.
void move_off_compute_pus(const RuntimePlacement& placement);

// {"plan": ..., "pinned": ..., "memory": ...}
nlohmann::json to_json(const RuntimePlacement& placement);
// One key=value line for logs.
std::string log_line(const RuntimePlacement& placement);

}  // namespace llmops::topology
