#include "binding.h"

#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace llmops::topology {

namespace {

constexpr size_t kTensorAlignment = 64;               // a cache line, and AVX-512 loads
constexpr size_t kLocationBlock = size_t{256} << 10;  // granularity of bytes_by_node

}  // namespace

void bind_current_thread(const Topology& topo, const std::vector<int>& pus) {
  const Bitmap set = make_bitmap(pus);
  if (hwloc_set_cpubind(topo.handle(), set.get(), HWLOC_CPUBIND_THREAD) != 0) {
    throw std::runtime_error("cannot bind this thread to PUs " + format_index_list(pus) + ": " +
                             std::strerror(errno));
  }
}

std::vector<int> current_thread_pus(const Topology& topo) {
  const Bitmap set = make_bitmap({});
  if (hwloc_get_cpubind(topo.handle(), set.get(), HWLOC_CPUBIND_THREAD) != 0) {
    throw std::runtime_error(std::string("cannot read this thread's binding: ") +
                             std::strerror(errno));
  }
  return bitmap_indexes(set.get());
}

void pin_pool_threads(engine::ThreadPool& pool, const Topology& topo, const PlacementPlan& plan) {
  if (pool.size() != plan.threads()) {
    throw std::invalid_argument("the pool has " + std::to_string(pool.size()) +
                                " threads but the placement plan " +
                                std::to_string(plan.threads()));
  }
  // Each slot is written by its own thread; on_each_thread returns after all are done.
  std::vector<int> errors(static_cast<size_t>(pool.size()), 0);
  pool.on_each_thread([&](int index) {
    const Bitmap set = make_bitmap({plan.placements[static_cast<size_t>(index)].pu});
    if (hwloc_set_cpubind(topo.handle(), set.get(), HWLOC_CPUBIND_THREAD) != 0) {
      errors[static_cast<size_t>(index)] = errno;
    }
  });
  for (size_t i = 0; i < errors.size(); ++i) {
    if (errors[i] != 0) {
      throw std::runtime_error("cannot pin compute thread " + std::to_string(i) + " to PU " +
                               std::to_string(plan.placements[i].pu) + ": " +
                               std::strerror(errors[i]));
    }
  }
}

std::map<int, size_t> memory_location(const Topology& topo, const void* data, size_t size) {
  std::map<int, size_t> out;
  const Bitmap nodes = make_bitmap({});
  const auto* bytes = static_cast<const uint8_t*>(data);
  for (size_t offset = 0; offset < size; offset += kLocationBlock) {
    const size_t length = std::min(kLocationBlock, size - offset);
    if (hwloc_get_area_memlocation(topo.handle(), bytes + offset, length, nodes.get(),
                                   HWLOC_MEMBIND_BYNODESET) != 0) {
      throw std::runtime_error(std::string("hwloc_get_area_memlocation: ") + std::strerror(errno));
    }
    const std::vector<int> found = bitmap_indexes(nodes.get());
    if (found.empty()) throw std::runtime_error("hwloc_get_area_memlocation found no node");
    for (size_t i = 0; i < found.size(); ++i) {
      // Split the block evenly, the remainder to the first node.
      out[found[i]] += length / found.size() + (i == 0 ? length % found.size() : 0);
    }
  }
  return out;
}

MemoryBinding bind_model_weights(engine::Model& model, const std::shared_ptr<Topology>& topo,
                                 const PlacementPlan& plan) {
  MemoryBinding result;
  result.policy = plan.memory_policy;
  result.nodes = plan.memory_nodes;
  if (plan.memory_policy == NumaPolicy::None) return result;

  // Distinct tensors (a shared classifier is token_embd's bytes) and their new offsets.
  std::vector<engine::TensorView*> views = model.weights.views();
  std::map<const void*, size_t> sizes;
  for (const engine::TensorView* v : views) {
    if (v->data == nullptr) continue;
    size_t& s = sizes[v->data];
    s = std::max(s, v->size_bytes());
  }
  std::map<const void*, size_t> offsets;
  size_t total = 0;
  for (const auto& [data, size] : sizes) {
    offsets[data] = total;
    total += (size + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
  }
  if (total == 0) return result;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t length = (total + page - 1) / page * page;

  const Bitmap nodeset = make_bitmap(plan.memory_nodes);
  const hwloc_membind_policy_t hwloc_policy =
      plan.memory_policy == NumaPolicy::Bind ? HWLOC_MEMBIND_BIND : HWLOC_MEMBIND_INTERLEAVE;
  void* buffer = hwloc_alloc_membind(topo->handle(), length, nodeset.get(), hwloc_policy,
                                     HWLOC_MEMBIND_BYNODESET);
  result.method = "membind";
  if (buffer == nullptr) {
    const int error = errno;
    buffer = hwloc_alloc(topo->handle(), length);
    if (buffer == nullptr) {
      throw std::runtime_error("cannot allocate " + std::to_string(length) +
                               " bytes for the model's weights");
    }
    result.method = "first-touch";
    spdlog::warn(
        "numa_membind_refused policy={} nodes={} error=\"{}\" fallback=first-touch "
        "(pages land on the copying thread's node)",
        numa_policy_name(plan.memory_policy), format_index_list(plan.memory_nodes),
        std::strerror(error));
  }
  std::shared_ptr<void> holder(buffer,
                               [topo, length](void* p) { hwloc_free(topo->handle(), p, length); });
  // Weights are large and streamed: huge pages cut TLB misses (a hint; THP may be off).
  if (madvise(buffer, length, MADV_HUGEPAGE) != 0) {
    spdlog::debug("madvise_hugepage_failed error=\"{}\"", std::strerror(errno));
  }

  auto* base = static_cast<uint8_t*>(buffer);
  for (const auto& [data, size] : sizes) std::memcpy(base + offsets[data], data, size);
  for (engine::TensorView* v : views) {
    if (v->data != nullptr) v->data = base + offsets[v->data];
  }
  model.weights_memory = std::move(holder);
  result.bytes = total;
  result.tensors = sizes.size();
  try {
    result.bytes_by_node = memory_location(*topo, buffer, total);
  } catch (const std::exception& e) {
    result.location_error = e.what();
    spdlog::warn("numa_location_unknown error=\"{}\"", e.what());
  }
  return result;
}

nlohmann::json to_json(const MemoryBinding& binding) {
  nlohmann::json landed = nlohmann::json::object();
  for (const auto& [node, bytes] : binding.bytes_by_node) landed[std::to_string(node)] = bytes;
  nlohmann::json out = {{"policy", std::string(numa_policy_name(binding.policy))},
                        {"method", binding.method},
                        {"nodes", binding.nodes},
                        {"bound_bytes", binding.bytes},
                        {"tensors", binding.tensors},
                        {"bytes_by_node", landed}};
  if (!binding.location_error.empty()) out["location_error"] = binding.location_error;
  return out;
}

}  // namespace llmops::topology
