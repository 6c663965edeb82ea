#include "endpoints_controller.h"

#include <gtest/gtest.h>

namespace llmops::devcluster {
namespace {

using Json = nlohmann::json;

Json pod(const std::string& name, const std::string& ip, bool ready, int port = 8080) {
  return {
      {"metadata",
       {{"name", name},
        {"namespace", "default"},
        {"uid", name + "-uid"},
        {"labels", {{"app", "web"}}}}},
      {"spec",
       {{"nodeName", "n1"},
        {"containers",
         Json::array({{{"name", "c"},
                       {"ports", Json::array({{{"name", "http"}, {"containerPort", port}}})}}})}}},
      {"status",
       {{"phase", "Running"},
        {"podIP", ip},
        {"conditions", Json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}}})}}}};
}

const Json kService = {
    {"metadata", {{"name", "web"}, {"namespace", "default"}, {"uid", "svc-uid"}}},
    {"spec",
     {{"selector", {{"app", "web"}}},
      {"ports", Json::array({{{"name", "http"}, {"port", 80}, {"targetPort", "http"}}})}}}};

TEST(Endpoints, ReadyPodsInAddressesOthersNotReady) {
  Json other = pod("other", "127.1.1.9", true);
  other["metadata"]["labels"]["app"] = "db";
  Json endpoints =
      endpointsFor(kService, {pod("a", "127.1.1.2", true), pod("b", "127.1.1.3", false), other});
  ASSERT_EQ(endpoints["subsets"].size(), 1u);
  const Json& subset = endpoints["subsets"][0];
  EXPECT_EQ(subset["addresses"].size(), 1u);
  EXPECT_EQ(subset["addresses"][0]["ip"], "127.1.1.2");
  EXPECT_EQ(subset["addresses"][0]["targetRef"]["name"], "a");
  EXPECT_EQ(subset["notReadyAddresses"][0]["ip"], "127.1.1.3");
  EXPECT_EQ(subset["ports"],
            Json::array({{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}));
}

TEST(Endpoints, NamedTargetPortsResolvePerPod) {
  Json endpoints = endpointsFor(
      kService, {pod("a", "127.1.1.2", true, 8080), pod("b", "127.1.1.3", true, 9090)});
  EXPECT_EQ(endpoints["subsets"].size(), 2u);
}

TEST(EndpointSlice, ConditionsLabelsAndOwner) {
  Json terminating = pod("t", "127.1.1.4", true);
  terminating["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  Json slice = endpointSliceFor(kService, {pod("a", "127.1.1.2", true), terminating});
  EXPECT_EQ(slice["metadata"]["labels"]["kubernetes.io/service-name"], "web");
  EXPECT_EQ(slice["metadata"]["ownerReferences"][0]["uid"], "svc-uid");
  ASSERT_EQ(slice["endpoints"].size(), 2u);
  EXPECT_EQ(slice["endpoints"][0]["conditions"]["ready"], true);
  EXPECT_EQ(slice["endpoints"][1]["conditions"]["ready"], false);
  EXPECT_EQ(slice["endpoints"][1]["conditions"]["terminating"], true);
}

}  // namespace
}  // namespace llmops::devcluster
