#include "scheduler.h"

#include <gtest/gtest.h>

#include "node_controller.h"

namespace llmops::devcluster {
namespace {

using Json = nlohmann::json;

Json node(const std::string& name, const std::string& cpu, bool ready = true) {
  return {
      {"metadata", {{"name", name}}},
      {"spec", Json::object()},
      {"status",
       {{"allocatable", {{"cpu", cpu}, {"memory", "8Gi"}}},
        {"conditions", Json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}}})}}}};
}

Json pod(const std::string& name, const std::string& cpu, const std::string& nodeName = "") {
  return {{"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec",
           {{"nodeName", nodeName},
            {"containers",
             Json::array({{{"name", "c"}, {"resources", {{"requests", {{"cpu", cpu}}}}}}})}}},
          {"status", {{"phase", nodeName.empty() ? "Pending" : "Running"}}}};
}

TEST(Scheduler, PicksTheNodeWithTheMostFreeCpu) {
  std::vector<Json> nodes = {node("a", "4"), node("b", "4")};
  std::vector<Json> pods = {pod("busy", "3", "a")};
  EXPECT_EQ(placePod(pod("new", "1"), nodes, pods).node, "b");
  pods.push_back(pod("busy2", "3500m", "b"));
  EXPECT_EQ(placePod(pod("new", "1"), nodes, pods).node, "a");
}

TEST(Scheduler, ExplainsWhyNothingFits) {
  std::vector<Json> nodes = {node("a", "2"), node("b", "2", false)};
  Placement placement = placePod(pod("huge", "64"), nodes, {});
  EXPECT_FALSE(placement.node);
  EXPECT_EQ(placement.message,
            "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were not ready.");
  // Finished pods free their room.
  std::vector<Json> pods = {pod("done", "2", "a")};
  pods[0]["status"]["phase"] = "Succeeded";
  EXPECT_EQ(placePod(pod("new", "2"), nodes, pods).node, "a");
}

TEST(NodeCapacity, SplitsWholeCpusAndMemory) {
  auto shares = splitCapacity({5000, 3000}, 2);
  ASSERT_EQ(shares.size(), 2u);
  EXPECT_EQ(shares[0].cpuMillis, 3000);
  EXPECT_EQ(shares[1].cpuMillis, 2000);
  EXPECT_EQ(shares[1].memoryBytes, 1500);
  EXPECT_EQ(splitCapacity({1000, 100}, 3)[2].cpuMillis, 1000);  // never a node without CPU
}

}  // namespace
}  // namespace llmops::devcluster
