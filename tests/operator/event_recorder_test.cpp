#include "llmops/kube/event_recorder.h"

#include <gtest/gtest.h>

#include "fake_transport.h"
#include "llmops/kube/typed_client.h"

namespace llmops::kube {
namespace {

using testing::FakeTransport;
using testing::json_response;
using testing::ManualClock;
using testing::status_body;

const nlohmann::json kInvolved = {
    {"apiVersion", "llmops.dev/v1alpha1"},
    {"kind", "LLMDeployment"},
    {"metadata",
     {{"name", "story"}, {"namespace", "default"}, {"uid", "u1"}, {"resourceVersion", "7"}}}};

TEST(EventRecorder, RepeatsAggregateIntoOneEvent) {
  bool expire = false;
  auto transport = std::make_shared<FakeTransport>([&expire](const HttpRequest& request) {
    if (request.method == "PATCH" && expire)
      return json_response(404, status_body(404, "NotFound", "gone"));
    return json_response(request.method == "POST" ? 201 : 200, request.body);
  });
  auto clock = std::make_shared<ManualClock>();
  EventRecorder recorder(std::make_shared<KubeClient>(transport), "llmops-operator", "host_1",
                         clock);
  recorder.record(kInvolved, "Normal", "Scaled", "scaled to 3");
  clock->advance(std::chrono::seconds(5));
  recorder.record(kInvolved, "Normal", "Scaled", "scaled to 3");
  recorder.record(kInvolved, "Normal", "Scaled", "scaled to 4");  // a different message
  auto requests = transport->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target.substr(0, requests[0].target.find('?')),
            "/api/v1/namespaces/default/events");
  auto event = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(event["involvedObject"]["uid"], "u1");
  EXPECT_EQ(event["involvedObject"]["kind"], "LLMDeployment");
  EXPECT_EQ(event["count"], 1);
  EXPECT_EQ(event["source"]["component"], "llmops-operator");
  EXPECT_EQ(event["reportingInstance"], "host_1");
  EXPECT_EQ(requests[1].method, "PATCH");
  EXPECT_NE(requests[1].target.find("/events/" + event["metadata"]["name"].get<std::string>()),
            std::string::npos);
  auto patch = nlohmann::json::parse(requests[1].body);
  EXPECT_EQ(patch["count"], 2);
  EXPECT_NE(patch["lastTimestamp"], event["firstTimestamp"]);
  EXPECT_EQ(requests[2].method, "POST");

  expire = true;  // the server dropped the event (TTL): the next repeat starts a new one
  recorder.record(kInvolved, "Normal", "Scaled", "scaled to 3");
  requests = transport->requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[3].method, "PATCH");
  EXPECT_EQ(requests[4].method, "POST");
}

TEST(EventRecorder, FailuresAreSwallowedAfterLogging) {
  auto transport = std::make_shared<FakeTransport>([](const HttpRequest&) {
    return json_response(403, status_body(403, "Forbidden", "no events for you"));
  });
  EventRecorder recorder(std::make_shared<KubeClient>(transport), "c", "i");
  EXPECT_NO_THROW(recorder.record(kInvolved, "Warning", "Failed", "x"));
}

struct Lease {
  std::string name;
  std::string holder;
};
void from_json(const nlohmann::json& j, Lease& lease) {
  lease.name = j.at("metadata").at("name");
  lease.holder = j.at("spec").value("holderIdentity", "");
}
void to_json(nlohmann::json& j, const Lease& lease) {
  j = {{"metadata", {{"name", lease.name}, {"namespace", "default"}}},
       {"spec", {{"holderIdentity", lease.holder}}}};
}

TEST(TypedClient, ConvertsThroughJson) {
  auto transport = std::make_shared<FakeTransport>([](const HttpRequest& request) {
    if (request.method == "GET") {
      return json_response(200, R"({"metadata":{"name":"l"},"spec":{"holderIdentity":"me"}})");
    }
    return json_response(200, request.body);
  });
  TypedClient<Lease> leases(std::make_shared<KubeClient>(transport),
                            {"coordination.k8s.io", "v1", "leases", true});
  EXPECT_EQ(leases.get("default", "l").holder, "me");
  EXPECT_EQ(leases.update({"l", "you"}).holder, "you");
  EXPECT_EQ(transport->requests()[1].target.substr(0, transport->requests()[1].target.find('?')),
            "/apis/coordination.k8s.io/v1/namespaces/default/leases/l");
}

}  // namespace
}  // namespace llmops::kube
