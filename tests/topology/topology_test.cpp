// The hwloc snapshot: this machine as this process sees it (cpuset and affinity), and
// synthetic descriptions hwloc 2.9 accepts or rejects.
#include "topology/topology.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <set>

namespace llmops::topology {
namespace {

TEST(Topology, ThisSystemMatchesTheAffinityMask) {
  const std::shared_ptr<Topology> topo = Topology::this_system();
  const TopologyInfo& info = topo->info();
  EXPECT_TRUE(topo->is_this_system());
  EXPECT_EQ(info.source, "this-system");
  ASSERT_FALSE(info.numa_nodes.empty());
  ASSERT_FALSE(info.cores.empty());
  cpu_set_t mask;
  CPU_ZERO(&mask);
  ASSERT_EQ(sched_getaffinity(0, sizeof mask, &mask), 0);
  std::vector<int> expected;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &mask)) expected.push_back(cpu);
  }
  EXPECT_EQ(info.allowed_pus, expected);
  EXPECT_FALSE(info.allowed_numa_nodes.empty());
  std::set<int> pus;
  for (const CoreInfo& core : info.cores) {
    EXPECT_GE(core.numa_node, 0);
    for (int pu : core.pus) EXPECT_TRUE(pus.insert(pu).second) << "PU " << pu << " twice";
  }
}

TEST(Topology, SyntheticNumaSyntax) {
  // hwloc 2.x attaches NUMA nodes as memory children: "[numa]" after the level they
  // hang from; a group level gives two nodes per package.
  const auto one_per_package = Topology::synthetic("pack:2 [numa] core:8 pu:2");
  EXPECT_FALSE(one_per_package->is_this_system());
  EXPECT_EQ(one_per_package->info().numa_nodes.size(), 2u);
  EXPECT_EQ(one_per_package->info().numa_nodes[1].pus.front(), 16);
  const auto two_per_package = Topology::synthetic("pack:2 group:2 [numa] core:8 pu:2");
  EXPECT_EQ(two_per_package->info().numa_nodes.size(), 4u);
  EXPECT_EQ(two_per_package->info().numa_nodes[3].pus.front(), 48);
  EXPECT_THROW(Topology::synthetic("pack:two core:8"), std::invalid_argument);
  EXPECT_THROW(Topology::from_xml("<not-a-topology/>"), std::invalid_argument);
}

TEST(Topology, JsonAndIndexLists) {
  EXPECT_EQ(format_index_list({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10-11");
  EXPECT_EQ(format_index_list({5}), "5");
  EXPECT_EQ(format_index_list({}), "");
  const nlohmann::json j = to_json(Topology::synthetic("pack:2 [numa] core:2 pu:2")->info());
  EXPECT_EQ(j["packages"], 2);
  EXPECT_EQ(j["pus"], 8);
  EXPECT_EQ(j["numa_nodes"][1]["pus"], "4-7");
  EXPECT_EQ(j["cores"][3]["pus"], nlohmann::json::array({6, 7}));
  EXPECT_EQ(j["cores"][3]["numa_node"], 1);
  EXPECT_EQ(j["allowed_pus"], "0-7");
}

}  // namespace
}  // namespace llmops::topology
