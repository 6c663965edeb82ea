// The contract's shared parse functions: the traffic split the router reads from status,
// and a Pod's readiness and llmops.dev labels, including the JSON the API never sends.
#include "llmops/api/status_parse.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "llmops/api/llmdeployment.h"

namespace llmops::api {
namespace {

using nlohmann::json;

TEST(TrafficStatus, ReadsStableAndSharesInOrder) {
  const TrafficStatus parsed = parse_traffic_status(
      {{"stableRevision", 2},
       {"traffic", {{{"revision", 2}, {"weight", 80}}, {{"revision", 3}, {"weight", 20}}}}});
  ASSERT_TRUE(parsed.stable_revision);
  EXPECT_EQ(*parsed.stable_revision, 2);
  EXPECT_EQ(parsed.traffic, (std::vector<TrafficShare>{{2, 80}, {3, 20}}));
}

TEST(TrafficStatus, SkipsWhatIsNotARevisionAndKeepsTheFirstOfARepeat) {
  const TrafficStatus parsed = parse_traffic_status({{"stableRevision", "2"},
                                                     {"traffic",
                                                      {"x",
                                                       {{"weight", 10}},
                                                       {{"revision", "4"}, {"weight", 10}},
                                                       {{"revision", 1.5}, {"weight", 10}},
                                                       {{"revision", 5}},
                                                       {{"revision", 6}, {"weight", -3}},
                                                       {{"revision", 5}, {"weight", 70}}}}});
  EXPECT_FALSE(parsed.stable_revision);  // a string is not a revision
  EXPECT_EQ(parsed.traffic, (std::vector<TrafficShare>{{5, 0}, {6, 0}}));
}

TEST(TrafficStatus, AWeightThatIsNotANumberNamesTheEntry) {
  try {
    parse_traffic_status(
        {{"traffic", {{{"revision", 1}, {"weight", 50}}, {{"revision", 2}, {"weight", "50"}}}}});
    FAIL() << "a string weight was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("status.traffic[1].weight"), std::string::npos)
        << error.what();
  }
}

TEST(TrafficStatus, NoStatusOrNotAnObjectIsEmpty) {
  for (const json& status : {json(), json::object(), json::array(), json("Healthy"),
                             json{{"traffic", "all"}}, json{{"traffic", json::object()}}}) {
    const TrafficStatus parsed = parse_traffic_status(status);
    EXPECT_FALSE(parsed.stable_revision) << status;
    EXPECT_TRUE(parsed.traffic.empty()) << status;
  }
}

json pod_with_conditions(json conditions) {
  return {{"metadata", {{"name", "p"}}}, {"status", {{"conditions", std::move(conditions)}}}};
}

TEST(PodReady, OnlyTheReadyConditionTrueCounts) {
  EXPECT_TRUE(pod_ready(pod_with_conditions(
      {{{"type", "Initialized"}, {"status", "False"}}, {{"type", "Ready"}, {"status", "True"}}})));
  EXPECT_FALSE(pod_ready(pod_with_conditions({{{"type", "Ready"}, {"status", "False"}}})));
  EXPECT_FALSE(pod_ready(pod_with_conditions({{{"type", "Ready"}, {"status", "Unknown"}}})));
  EXPECT_FALSE(pod_ready(pod_with_conditions({{{"type", "Ready"}}})));
  EXPECT_FALSE(pod_ready(pod_with_conditions({{{"type", "ContainersReady"}, {"status", "True"}}})));
  EXPECT_FALSE(pod_ready(pod_with_conditions(json::array())));
}

TEST(PodReady, MalformedPodsAreNotReadyAndDoNotThrow) {
  for (const json& pod :
       {json(), json("pod"), json::object(), json{{"status", "Running"}},
        json{{"status", {{"conditions", "Ready"}}}}, pod_with_conditions({"Ready", 1, nullptr}),
        pod_with_conditions({{{"type", 7}, {"status", "True"}}}),
        pod_with_conditions({{{"type", "Ready"}, {"status", true}}})}) {
    EXPECT_FALSE(pod_ready(pod)) << pod;
  }
}

TEST(PodLabels, RevisionIsANumberOrNothing) {
  const auto pod = [](json labels) { return json{{"metadata", {{"labels", std::move(labels)}}}}; };
  EXPECT_EQ(pod_revision(pod({{kRevisionLabel, "12"}})), 12);
  EXPECT_EQ(pod_revision(pod({{kRevisionLabel, "x"}})), std::nullopt);
  EXPECT_EQ(pod_revision(pod({{kRevisionLabel, 12}})), std::nullopt);  // labels are strings
  EXPECT_EQ(pod_revision(pod(json::object())), std::nullopt);
  EXPECT_EQ(pod_revision(json{{"metadata", {{"labels", "a=b"}}}}), std::nullopt);
  EXPECT_EQ(pod_revision(json::array()), std::nullopt);
  EXPECT_EQ(pod_label(pod({{kDeploymentLabel, "story"}}), kDeploymentLabel), "story");
  EXPECT_EQ(pod_label(pod({{kDeploymentLabel, true}}), kDeploymentLabel), "");
}

// Every reason appears once in kConditionReasons, and the role lists are subsets of it.
TEST(Contract, ReasonListsAreCompleteAndDistinct) {
  std::set<std::string> reasons(kConditionReasons.begin(), kConditionReasons.end());
  EXPECT_EQ(reasons.size(), kConditionReasons.size());
  for (const char* reason : kDegradedReasons) EXPECT_TRUE(reasons.count(reason)) << reason;
  for (const char* reason : kPausedReasons) EXPECT_TRUE(reasons.count(reason)) << reason;
  std::set<std::string> phases(kPhases.begin(), kPhases.end());
  EXPECT_EQ(phases.size(), kPhases.size());
  EXPECT_EQ(std::string(kApiVersion), std::string(kGroup) + "/" + kVersion);
}

}  // namespace
}  // namespace llmops::api
