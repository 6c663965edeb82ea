// Applies a PlacementPlan: pins the pool's threads to their PUs and copies the model's
// weights into NUMA-bound memory. Binding a shared file mapping would not move its
// page-cache pages (they stay where first read), hence the copy.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/thread_pool.h"
#include "placement.h"
#include "topology.h"

namespace llmops::topology {

// Thread i of the pool (0 = the caller of parallel_for) to plan.placements[i].pu.
// Throws std::runtime_error naming the thread and PU when the kernel refuses.
void pin_pool_threads(engine::ThreadPool& pool, const Topology& topo, const PlacementPlan& plan);
void bind_current_thread(const Topology& topo, const std::vector<int>& pus);
std::vector<int> current_thread_pus(const Topology& topo);

struct MemoryBinding {
  NumaPolicy policy = NumaPolicy::None;  // what was applied
  // "membind" (hwloc_alloc_membind), "first-touch" (membind refused, e.g. no
  // CAP_SYS_NICE under a container's seccomp: plain pages touched by the pinned
  // caller), or "mmap" (none: weights left in the file mapping).
  std::string method = "mmap";
  std::vector<int> nodes;  // the nodes asked for
  size_t bytes = 0;        // weight bytes copied
  size_t tensors = 0;      // distinct tensors copied
  // Where the copied pages are, from hwloc_get_area_memlocation (per 256 KiB block;
  // a block on several nodes counts evenly for each). Empty when unknown.
  std::map<int, size_t> bytes_by_node;
  std::string location_error;  // why bytes_by_node is empty, if it is
};

// Copies every distinct tensor the model's views point at (file mapping or `owned`)
// into one buffer allocated as the plan says, re-points the views and keeps the buffer
// alive in model.weights_memory. Policy None leaves the model as it is.
MemoryBinding bind_model_weights(engine::Model& model, const std::shared_ptr<Topology>& topo,
                                 const PlacementPlan& plan);

// Bytes of [data, data + size) by NUMA node (OS index); throws std::runtime_error when
// hwloc cannot tell.
std::map<int, size_t> memory_location(const Topology& topo, const void* data, size_t size);

nlohmann::json to_json(const MemoryBinding& binding);

}  // namespace llmops::topology
