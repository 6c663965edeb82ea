// Placement applied on this machine: pool threads pinned to the plan's PUs (checked with
// hwloc_get_cpubind from inside each thread), and weights copied into NUMA-bound memory
// (views re-pointed, bytes equal, hwloc_get_area_memlocation on the plan's node: node 0
// on these single-node machines), with greedy generation unchanged.
#include "topology/binding.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "engine/generate.h"
#include "engine/model_tokenizer.h"
#include "engine/model_writer.h"
#include "engine/transformer.h"
#include "topology/runtime_placement.h"

namespace llmops::topology {
namespace {

class ModelFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("llmops-topology-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string make(engine::TensorType type) {
    engine::MakeModelOptions options;
    options.dim = 64;
    options.hidden_dim = 128;
    options.n_layers = 2;
    options.n_heads = 4;
    options.n_kv_heads = 2;
    options.context_length = 64;
    options.type = type;
    options.out = (dir_ / (std::string(engine::type_name(type)) + ".gguf")).string();
    engine::make_model(options);
    return options.out;
  }

  std::filesystem::path dir_;
};

TEST(Binding, PinsEachPoolThreadToItsPu) {
  const std::shared_ptr<Topology> topo = Topology::this_system();
  const TopologyInfo& info = topo->info();
  if (plan_placement(info, info.allowed_pus, 0, NumaPolicy::None).threads() < 2) {
    GTEST_SKIP() << "needs two physical cores, this process may use "
                 << format_index_list(info.allowed_pus);
  }
  const PlacementPlan plan = plan_placement(info, info.allowed_pus, 2, NumaPolicy::None);
  engine::ThreadPool pool(2);
  pin_pool_threads(pool, *topo, plan);
  std::vector<std::vector<int>> seen(2);
  pool.on_each_thread([&](int index) {
    const Bitmap set = make_bitmap({});
    if (hwloc_get_cpubind(topo->handle(), set.get(), HWLOC_CPUBIND_THREAD) == 0) {
      seen[static_cast<size_t>(index)] = bitmap_indexes(set.get());
    }
  });
  EXPECT_EQ(seen[0], std::vector<int>{plan.placements[0].pu});
  EXPECT_EQ(seen[1], std::vector<int>{plan.placements[1].pu});
  EXPECT_NE(plan.placements[0].pu, plan.placements[1].pu);
  // The caller (thread 0) can be moved again, e.g. off the compute PUs.
  bind_current_thread(*topo, info.allowed_pus);
  EXPECT_EQ(current_thread_pus(*topo), info.allowed_pus);
}

TEST(Binding, PoolAndPlanMustAgree) {
  const std::shared_ptr<Topology> topo = Topology::this_system();
  const TopologyInfo& info = topo->info();
  const PlacementPlan plan = plan_placement(info, info.allowed_pus, 1, NumaPolicy::None);
  engine::ThreadPool pool(2);
  EXPECT_THROW(pin_pool_threads(pool, *topo, plan), std::invalid_argument);
}

TEST_F(ModelFile, BindCopiesWeightsOntoThePlansNode) {
  for (engine::TensorType type : {engine::TensorType::F32, engine::TensorType::Q8_0}) {
    for (NumaPolicy policy : {NumaPolicy::Bind, NumaPolicy::Interleave}) {
      SCOPED_TRACE(std::string(engine::type_name(type)) + " " +
                   std::string(numa_policy_name(policy)));
      const std::string path = make(type);
      const engine::Model original = engine::load_model(path);
      engine::Model bound = engine::load_model(path);
      const std::shared_ptr<Topology> topo = Topology::this_system();
      const PlacementPlan plan = plan_placement(topo->info(), topo->info().allowed_pus, 1, policy);
      const MemoryBinding binding = bind_model_weights(bound, topo, plan);

      ASSERT_NE(bound.weights_memory, nullptr);
      EXPECT_EQ(binding.method, "membind");
      EXPECT_GT(binding.bytes, 0u);
      const auto* begin = static_cast<const uint8_t*>(bound.weights_memory.get());
      const auto before = original.weights.views();
      const auto after = bound.weights.views();
      ASSERT_EQ(before.size(), after.size());
      for (size_t i = 0; i < after.size(); ++i) {
        const auto* data = static_cast<const uint8_t*>(after[i]->data);
        EXPECT_GE(data, begin) << after[i]->name;
        EXPECT_LE(data + after[i]->size_bytes(), begin + binding.bytes) << after[i]->name;
        EXPECT_EQ(reinterpret_cast<uintptr_t>(data) % 64, 0u) << after[i]->name;
        EXPECT_NE(after[i]->data, before[i]->data) << after[i]->name;
        EXPECT_EQ(std::memcmp(data, before[i]->data, before[i]->size_bytes()), 0) << after[i]->name;
      }
      // Every byte landed on the plan's nodes; with one node here that is node 0.
      size_t landed = 0;
      for (const auto& [node, bytes] : binding.bytes_by_node) {
        EXPECT_NE(std::find(plan.memory_nodes.begin(), plan.memory_nodes.end(), node),
                  plan.memory_nodes.end())
            << "bytes on node " << node;
        landed += bytes;
      }
      EXPECT_EQ(landed, binding.bytes) << binding.location_error;
      if (topo->info().numa_nodes.size() == 1) {
        EXPECT_EQ(binding.bytes_by_node, (std::map<int, size_t>{{0, binding.bytes}}));
      }
      EXPECT_EQ(memory_location(*topo, bound.weights.layers[0].wq.data, 4096).begin()->first,
                plan.memory_nodes.front());
      EXPECT_EQ(to_json(binding)["bound_bytes"], binding.bytes);
    }
  }
}

TEST_F(ModelFile, NoneLeavesTheMapping) {
  const std::string path = make(engine::TensorType::F32);
  engine::Model model = engine::load_model(path);
  const void* wq = model.weights.layers[0].wq.data;
  const std::shared_ptr<Topology> topo = Topology::this_system();
  const PlacementPlan plan =
      plan_placement(topo->info(), topo->info().allowed_pus, 1, NumaPolicy::None);
  const MemoryBinding binding = bind_model_weights(model, topo, plan);
  EXPECT_EQ(binding.method, "mmap");
  EXPECT_EQ(binding.bytes, 0u);
  EXPECT_EQ(model.weights.layers[0].wq.data, wq);
  EXPECT_EQ(model.weights_memory, nullptr);
}

TEST_F(ModelFile, GreedyGenerationIsIdenticalWithBoundWeights) {
  const std::string path = make(engine::TensorType::Q8_0);
  engine::GenerationOptions options;
  options.max_tokens = 24;
  options.sampling.temperature = 0;
  std::vector<std::vector<int32_t>> outputs;
  for (NumaPolicy policy : {NumaPolicy::None, NumaPolicy::Bind, NumaPolicy::Interleave}) {
    RuntimePlacement placement = plan_this_process(0, policy);
    engine::Model loaded = engine::load_model(path);
    engine::ThreadPool pool(placement.plan.threads());
    apply_placement(placement, pool, loaded);
    EXPECT_TRUE(placement.pinned);
    // A copy of the Model keeps the bound buffer alive after the original is gone.
    auto model = std::make_unique<engine::Model>(loaded);
    loaded = engine::Model{};
    const engine::Tokenizer tokenizer = engine::load_tokenizer_for(*model, "");
    engine::Transformer transformer(*model, &pool);
    outputs.push_back(engine::generate(transformer, tokenizer, "hello numa", options).generated);
    EXPECT_EQ(to_json(placement)["memory"]["policy"], std::string(numa_policy_name(policy)));
  }
  // Leave the test runner's main thread as it found it.
  const auto topo = Topology::this_system();
  bind_current_thread(*topo, topo->info().allowed_pus);
  EXPECT_EQ(outputs[0].size(), 24u);
  EXPECT_EQ(outputs[1], outputs[0]);
  EXPECT_EQ(outputs[2], outputs[0]);
}

}  // namespace
}  // namespace llmops::topology
