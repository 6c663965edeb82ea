// The placement plan on synthetic topologies (2 packages x 2 NUMA nodes x 8 cores x 2
// PUs, cpusets crossing nodes, a single core) and on an XML export reloaded.
#include "topology/placement.h"

#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <vector>

#include "topology/topology.h"

namespace llmops::topology {
namespace {

// 2 packages x 2 NUMA nodes x 8 cores x 2 PUs: node n has PUs 16n..16n+15, and core c
// (logical) has PUs 2c and 2c+1.
constexpr const char* kTwoSocket = "pack:2 group:2 [numa] core:8 pu:2";

const TopologyInfo& two_socket() {
  static const std::shared_ptr<Topology> topo = Topology::synthetic(kTwoSocket);
  return topo->info();
}

std::vector<int> range(int begin, int end, int step = 1) {
  std::vector<int> out;
  for (int i = begin; i < end; i += step) out.push_back(i);
  return out;
}

std::vector<int> concat(std::vector<int> a, const std::vector<int>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(Placement, SyntheticTopologyHasTheExpectedShape) {
  const TopologyInfo& topo = two_socket();
  EXPECT_EQ(topo.packages, 2);
  ASSERT_EQ(topo.numa_nodes.size(), 4u);
  ASSERT_EQ(topo.cores.size(), 32u);
  EXPECT_EQ(topo.pu_count(), 64);
  EXPECT_EQ(topo.cores[9].numa_node, 1);
  EXPECT_EQ(topo.cores[9].package, 0);
  EXPECT_EQ(topo.cores[17].package, 1);
  EXPECT_EQ(topo.cores[9].pus, (std::vector<int>{18, 19}));
  EXPECT_EQ(topo.allowed_pus, range(0, 64));
  EXPECT_EQ(topo.allowed_numa_nodes, range(0, 4));
}

TEST(Placement, OnePerPhysicalCoreLeavesSmtSiblingsOut) {
  const TopologyInfo& topo = two_socket();
  const PlacementPlan plan = plan_placement(topo, topo.allowed_pus, 0, NumaPolicy::Bind);
  EXPECT_EQ(plan.threads(), 32);
  EXPECT_EQ(plan.pus(), range(0, 64, 2));
  EXPECT_FALSE(plan.smt);
  EXPECT_EQ(plan.allowed_cores, 32);
  EXPECT_EQ(plan.spare_pus, range(1, 64, 2));
  EXPECT_EQ(plan.thread_nodes(), range(0, 4));
  // 8 threads on each of 4 nodes: no node dominates, so one interleaved copy.
  EXPECT_EQ(plan.memory_policy, NumaPolicy::Interleave);
  EXPECT_EQ(plan.memory_nodes, range(0, 4));
  EXPECT_NE(plan.explanation.find("interleaved over nodes 0-3"), std::string::npos)
      << plan.explanation;
}

TEST(Placement, WithSmtEveryCoreGetsOneThreadBeforeAnySibling) {
  const TopologyInfo& topo = two_socket();
  const PlacementPlan all = plan_placement(topo, topo.allowed_pus, 0, NumaPolicy::None, true);
  EXPECT_EQ(all.threads(), 64);
  EXPECT_EQ(all.pus(), concat(range(0, 64, 2), range(1, 64, 2)));
  EXPECT_TRUE(all.smt);
  EXPECT_TRUE(all.spare_pus.empty());

  const PlacementPlan some = plan_placement(topo, topo.allowed_pus, 34, NumaPolicy::None, true);
  EXPECT_EQ(some.pus(), concat(range(0, 64, 2), {1, 3}));
  EXPECT_TRUE(some.smt);
  // Asked for SMT but fewer threads than cores: still one per core.
  EXPECT_FALSE(plan_placement(topo, topo.allowed_pus, 8, NumaPolicy::None, true).smt);
}

TEST(Placement, FewThreadsFillNodeZeroFirstAndBindThere) {
  const TopologyInfo& topo = two_socket();
  const PlacementPlan plan = plan_placement(topo, topo.allowed_pus, 4, NumaPolicy::Bind);
  EXPECT_EQ(plan.pus(), (std::vector<int>{0, 2, 4, 6}));
  for (const ThreadPlacement& p : plan.placements) EXPECT_EQ(p.numa_node, 0);
  EXPECT_EQ(plan.memory_policy, NumaPolicy::Bind);
  EXPECT_EQ(plan.memory_nodes, std::vector<int>{0});

  // Nine threads: node 0's eight cores, then the first core of node 1.
  const PlacementPlan nine = plan_placement(topo, topo.allowed_pus, 9, NumaPolicy::Bind);
  EXPECT_EQ(nine.pus(), concat(range(0, 16, 2), {16}));
  EXPECT_EQ(nine.memory_policy, NumaPolicy::Bind);  // 8 of 9 on node 0
  EXPECT_EQ(nine.memory_nodes, std::vector<int>{0});
}

TEST(Placement, MoreThreadsThanCoresIsAnError) {
  const TopologyInfo& topo = two_socket();
  const std::string message =
      error_of([&] { plan_placement(topo, topo.allowed_pus, 33, NumaPolicy::Bind); });
  EXPECT_NE(message.find("threads=33 exceeds the 32 physical cores (64 PUs: 0-63)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("SMT siblings left out"), std::string::npos) << message;
  // SMT gives enough PUs for 33, not for 65.
  EXPECT_EQ(plan_placement(topo, topo.allowed_pus, 33, NumaPolicy::Bind, true).threads(), 33);
  EXPECT_NE(error_of([&] {
              plan_placement(topo, topo.allowed_pus, 65, NumaPolicy::Bind, true);
            }).find("exceeds the 32 physical cores (64 PUs: 0-63) this process may use, SMT"),
            std::string::npos);
}

TEST(Placement, CpusetCrossingNodes) {
  const TopologyInfo& topo = two_socket();
  struct Case {
    std::string name;
    std::vector<int> allowed;
    int threads;
    std::vector<int> pus;
    NumaPolicy memory_policy;
    std::vector<int> memory_nodes;
  };
  const std::vector<Case> cases = {
      // Cores 4-7 of node 0 and 0-3 of node 1, both PUs of each: 4 + 4 threads.
      {"even split interleaves", range(8, 24), 0, range(8, 24, 2), NumaPolicy::Interleave, {0, 1}},
      // Five threads: four on node 0, one on node 1 (80%): bind to node 0.
      {"dominant node binds", range(8, 24), 5, {8, 10, 12, 14, 16}, NumaPolicy::Bind, {0}},
      // Six cores of node 0 and two of node 1 (75%): bind to node 0.
      {"three quarters binds",
       concat(range(4, 16), range(16, 20)),
       0,
       concat(range(4, 16, 2), {16, 18}),
       NumaPolicy::Bind,
       {0}},
      // Only one PU of each allowed core (a cpuset that takes every other PU).
      {"one PU per core",
       concat(range(9, 16, 2), range(17, 24, 2)),
       0,
       concat(range(9, 16, 2), range(17, 24, 2)),
       NumaPolicy::Interleave,
       {0, 1}},
      // Nodes 1 and 3, on different packages; node 1 takes 3 of 4.
      {"across packages",
       concat(range(16, 22), range(48, 50)),
       0,
       {16, 18, 20, 48},
       NumaPolicy::Bind,
       {1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const PlacementPlan plan = plan_placement(topo, c.allowed, c.threads, NumaPolicy::Bind);
    EXPECT_EQ(plan.pus(), c.pus);
    EXPECT_FALSE(plan.smt);
    EXPECT_EQ(plan.memory_policy, c.memory_policy);
    EXPECT_EQ(plan.memory_nodes, c.memory_nodes);
    EXPECT_NE(plan.explanation.find("threads by NUMA node"), std::string::npos);
  }
}

TEST(Placement, SingleCore) {
  const TopologyInfo& topo = two_socket();
  // One PU of a node-1 core: one thread there, memory bound to node 1.
  const PlacementPlan plan = plan_placement(topo, {17}, 0, NumaPolicy::Bind);
  EXPECT_EQ(plan.pus(), std::vector<int>{17});
  EXPECT_EQ(plan.placements[0].core, 8);
  EXPECT_EQ(plan.memory_policy, NumaPolicy::Bind);
  EXPECT_EQ(plan.memory_nodes, std::vector<int>{1});
  EXPECT_NE(error_of([&] {
              plan_placement(topo, {16, 17}, 2, NumaPolicy::Bind);
            }).find("threads=2 exceeds the 1 physical cores (2 PUs: 16-17)"),
            std::string::npos);
  EXPECT_EQ(plan_placement(topo, {16, 17}, 2, NumaPolicy::Bind, true).pus(),
            (std::vector<int>{16, 17}));

  // A hand-built one-core machine, no hwloc involved.
  TopologyInfo tiny;
  tiny.source = "hand-built";
  tiny.packages = 1;
  tiny.numa_nodes = {{0, 1u << 30, {0}}};
  tiny.cores = {{0, 0, 0, {0}}};
  tiny.allowed_pus = {0};
  tiny.allowed_numa_nodes = {0};
  const PlacementPlan one = plan_placement(tiny, tiny.allowed_pus, 0, NumaPolicy::Interleave);
  EXPECT_EQ(one.pus(), std::vector<int>{0});
  EXPECT_EQ(one.memory_policy, NumaPolicy::Interleave);
  EXPECT_EQ(one.memory_nodes, std::vector<int>{0});
}

TEST(Placement, PoliciesNoneAndInterleave) {
  const TopologyInfo& topo = two_socket();
  const PlacementPlan none = plan_placement(topo, topo.allowed_pus, 4, NumaPolicy::None);
  EXPECT_EQ(none.memory_policy, NumaPolicy::None);
  EXPECT_TRUE(none.memory_nodes.empty());
  EXPECT_NE(none.explanation.find("left in the file mapping"), std::string::npos);
  // Interleave spreads over every allowed node, even those without threads.
  const PlacementPlan interleave =
      plan_placement(topo, topo.allowed_pus, 4, NumaPolicy::Interleave);
  EXPECT_EQ(interleave.memory_policy, NumaPolicy::Interleave);
  EXPECT_EQ(interleave.memory_nodes, range(0, 4));
}

TEST(Placement, RejectsBadInputsWithAMessage) {
  const TopologyInfo& topo = two_socket();
  EXPECT_NE(error_of([&] {
              plan_placement(topo, {3, 64}, 0, NumaPolicy::Bind);
            }).find("allowed PU 64 is not in the topology (synthetic:pack:2"),
            std::string::npos);
  EXPECT_NE(error_of([&] { plan_placement(topo, {}, 0, NumaPolicy::Bind); }).find("no allowed PU"),
            std::string::npos);
  EXPECT_NE(error_of([&] { plan_placement(topo, {0}, -1, NumaPolicy::Bind); }).find(">= 0"),
            std::string::npos);
  EXPECT_EQ(parse_numa_policy("interleave"), NumaPolicy::Interleave);
  EXPECT_NE(error_of([] { parse_numa_policy("mirror"); }).find("got 'mirror'"), std::string::npos);
}

TEST(Placement, XmlExportReloadsToTheSamePlan) {
  const std::shared_ptr<Topology> synthetic = Topology::synthetic(kTwoSocket);
  const std::string xml = synthetic->export_xml();
  ASSERT_NE(xml.find("<topology"), std::string::npos);
  const std::shared_ptr<Topology> reloaded = Topology::from_xml(xml);
  const TopologyInfo& info = reloaded->info();
  EXPECT_EQ(info.source, "xml");
  EXPECT_EQ(info.cores.size(), 32u);
  EXPECT_EQ(info.numa_nodes.size(), 4u);
  for (int threads : {0, 4, 5}) {
    const PlacementPlan a =
        plan_placement(synthetic->info(), range(8, 24), threads, NumaPolicy::Bind);
    const PlacementPlan b = plan_placement(info, range(8, 24), threads, NumaPolicy::Bind);
    EXPECT_EQ(a.pus(), b.pus());
    EXPECT_EQ(a.memory_nodes, b.memory_nodes);
    EXPECT_EQ(to_json(a)["memory_policy"], to_json(b)["memory_policy"]);
  }
}

TEST(Placement, JsonCarriesThePlan) {
  const TopologyInfo& topo = two_socket();
  const nlohmann::json j = to_json(plan_placement(topo, range(8, 24), 0, NumaPolicy::Bind));
  EXPECT_EQ(j["threads"], 8);
  EXPECT_EQ(j["pus"], "8,10,12,14,16,18,20,22");
  EXPECT_EQ(j["numa"], "bind");
  EXPECT_EQ(j["memory_policy"], "interleave");
  EXPECT_EQ(j["memory_nodes"], nlohmann::json::array({0, 1}));
  EXPECT_EQ(j["thread_placement"][4]["numa_node"], 1);
  EXPECT_TRUE(j["explanation"].is_string());
}

}  // namespace
}  // namespace llmops::topology
