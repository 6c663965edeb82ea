#include "quantity.h"

#include <gtest/gtest.h>

namespace llmops::devcluster {
namespace {

using Json = nlohmann::json;

TEST(Quantity, CpuInMillicores) {
  const std::vector<std::pair<std::string, std::optional<int64_t>>> cases = {
      {"500m", 500}, {"2", 2000},        {"1.5", 1500},         {"0.1", 100},   {"1e3", 1000000},
      {"100u", 1},   {"", std::nullopt}, {"abc", std::nullopt}, {"1k", 1000000}};
  for (const auto& [text, want] : cases) EXPECT_EQ(parseCpuMillis(text), want) << text;
}

TEST(Quantity, MemoryInBytes) {
  const std::vector<std::pair<std::string, std::optional<int64_t>>> cases = {
      {"128Mi", 128LL << 20}, {"1G", 1000000000}, {"1Gi", 1LL << 30},   {"512", 512},
      {"1.5Ki", 1536},        {"2e3", 2000},      {"1Xi", std::nullopt}};
  for (const auto& [text, want] : cases) EXPECT_EQ(parseBytes(text), want) << text;
}

TEST(Quantity, PodRequestsAndQos) {
  Json guaranteed = {
      {"spec",
       {{"containers",
         Json::array(
             {{{"name", "a"}, {"resources", {{"limits", {{"cpu", "2"}, {"memory", "1Gi"}}}}}}})}}}};
  EXPECT_EQ(podRequests(guaranteed).cpuMillis, 2000);  // limits stand in for requests
  EXPECT_EQ(podRequests(guaranteed).memoryBytes, 1LL << 30);
  EXPECT_EQ(qosClass(guaranteed), "Guaranteed");
  Json burstable = {
      {"spec",
       {{"containers",
         Json::array({{{"name", "a"}, {"resources", {{"requests", {{"cpu", "250m"}}}}}},
                      {{"name", "b"}, {"resources", {{"requests", {{"cpu", 1}}}}}}})}}}};
  EXPECT_EQ(podRequests(burstable).cpuMillis, 1250);
  EXPECT_EQ(qosClass(burstable), "Burstable");
  Json bestEffort = {{"spec", {{"containers", Json::array({{{"name", "a"}}})}}}};
  EXPECT_EQ(qosClass(bestEffort), "BestEffort");
  EXPECT_EQ(podRequests(bestEffort).cpuMillis, 0);
}

}  // namespace
}  // namespace llmops::devcluster
