#include "llmops/kube/kube_client.h"

#include <gtest/gtest.h>

#include <optional>

#include "fake_transport.h"
#include "llmops/kube/api_error.h"

namespace llmops::kube {
namespace {

using namespace std::chrono_literals;
using testing::FakeTransport;
using testing::json_response;
using testing::status_body;

const GroupVersionResource kLlmd{"llmops.dev", "v1alpha1", "llmdeployments", true};
const GroupVersionResource kPods{"", "v1", "pods", true};

ClientOptions fast_retries() {
  ClientOptions options;
  options.retry.initial_backoff = 1ms;
  options.retry.max_backoff = 2ms;
  return options;
}

TEST(KubeClient, Paths) {
  EXPECT_EQ(KubeClient::path(kLlmd, "default", "x", "status"),
            "/apis/llmops.dev/v1alpha1/namespaces/default/llmdeployments/x/status");
  EXPECT_EQ(KubeClient::path(kPods, ""), "/api/v1/pods");
  EXPECT_EQ(KubeClient::path({"apiextensions.k8s.io", "v1", "customresourcedefinitions", false},
                             "ignored", "a.b"),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/a.b");
  ListOptions options;
  options.label_selector = "llmops.dev/deployment=a,x!=y";
  options.timeout_seconds = 300;
  options.allow_watch_bookmarks = true;
  options.resource_version = "17";
  EXPECT_EQ(KubeClient::query(options, true),
            "?labelSelector=llmops.dev%2Fdeployment%3Da%2Cx%21%3Dy&resourceVersion=17"
            "&timeoutSeconds=300&allowWatchBookmarks=true&watch=true");
}

TEST(KubeClient, IdempotentGetIsRetriedOn503ThenSucceeds) {
  int calls = 0;
  auto transport = std::make_shared<FakeTransport>([&calls](const HttpRequest&) {
    return ++calls < 3 ? json_response(503, status_body(503, "ServiceUnavailable", "busy"))
                       : json_response(200, R"({"metadata":{"name":"x"}})");
  });
  KubeClient client(transport, fast_retries());
  EXPECT_EQ(client.get(kLlmd, "default", "x")["metadata"]["name"], "x");
  EXPECT_EQ(calls, 3);
}

TEST(KubeClient, CreateIsNotRetriedOn500ButIsOn429) {
  int calls = 0;
  auto transport = std::make_shared<FakeTransport>([&calls](const HttpRequest&) {
    ++calls;
    return json_response(500, status_body(500, "InternalError", "boom"));
  });
  KubeClient client(transport, fast_retries());
  EXPECT_THROW(client.create(kLlmd, "default", {{"metadata", {{"name", "x"}}}}), ServerError);
  EXPECT_EQ(calls, 1);

  int throttled = 0;
  auto limited = std::make_shared<FakeTransport>([&throttled](const HttpRequest&) {
    if (++throttled == 1) {
      HttpResponse response = json_response(429, status_body(429, "TooManyRequests", "slow"));
      response.headers.emplace_back("Retry-After", "0");
      return response;
    }
    return json_response(201, R"({"metadata":{"name":"x"}})");
  });
  KubeClient second(limited, fast_retries());
  EXPECT_NO_THROW(second.create(kLlmd, "default", {{"metadata", {{"name", "x"}}}}));
  EXPECT_EQ(throttled, 2);
}

TEST(KubeClient, NetworkErrorsRetriedForGetNotPatch) {
  int calls = 0;
  auto transport = std::make_shared<FakeTransport>([&calls](const HttpRequest&) -> HttpResponse {
    ++calls;
    throw TransportError("connection reset", false);
  });
  KubeClient client(transport, fast_retries());
  EXPECT_THROW(client.get(kLlmd, "default", "x"), TransportError);
  EXPECT_EQ(calls, 5);
  calls = 0;
  EXPECT_THROW(client.patch(kLlmd, "default", "x", PatchType::kMerge, nlohmann::json::object()),
               TransportError);
  EXPECT_EQ(calls, 1);
}

// A deposed leader's writes must never reach the server after its Lease could have
// passed on: refused once the budget is spent, and bounded by it before.
TEST(KubeClient, WritesAreFencedByTheWriteBudget) {
  auto transport = std::make_shared<FakeTransport>(
      [](const HttpRequest&) { return json_response(200, R"({"metadata":{"name":"x"}})"); });
  std::optional<std::chrono::milliseconds> budget = std::chrono::milliseconds(1500);
  ClientOptions options = fast_retries();
  options.write_budget = [&budget] { return budget; };
  KubeClient client(transport, options);
  client.patch(kLlmd, "default", "x", PatchType::kMerge, nlohmann::json::object());
  ASSERT_EQ(transport->requests().size(), 1u);
  EXPECT_EQ(transport->requests()[0].timeout, std::chrono::milliseconds(1500));
  budget = std::chrono::milliseconds(0);
  EXPECT_THROW(client.create(kLlmd, "default", {{"metadata", {{"name", "x"}}}}), FencedError);
  EXPECT_THROW(client.remove(kLlmd, "default", "x"), FencedError);
  EXPECT_EQ(transport->requests().size(), 1u) << "a fenced write was sent";
  EXPECT_NO_THROW(client.get(kLlmd, "default", "x"));  // reads are not fenced
  // ... but bounded: no request goes out without a timeout (zero would mean none).
  EXPECT_EQ(transport->requests().back().timeout, std::chrono::seconds(30));
  budget = std::nullopt;  // no leader election: no limit but the request timeout
  client.patch(kLlmd, "default", "x", PatchType::kMerge, nlohmann::json::object());
  EXPECT_EQ(transport->requests().back().timeout, std::chrono::seconds(30));
}

TEST(KubeClient, ConflictSurfacesAsConflictError) {
  auto transport = std::make_shared<FakeTransport>([](const HttpRequest&) {
    return json_response(409, status_body(409, "Conflict", "the object has been modified"));
  });
  KubeClient client(transport, fast_retries());
  nlohmann::json object = {
      {"metadata", {{"name", "x"}, {"namespace", "default"}, {"resourceVersion", "3"}}}};
  EXPECT_THROW(client.update(kLlmd, object), ConflictError);
  EXPECT_EQ(transport->requests().size(), 1u);
  EXPECT_EQ(transport->requests()[0].method, "PUT");
}

TEST(KubeClient, ListAllFollowsContinueWithoutResourceVersion) {
  auto transport = std::make_shared<FakeTransport>([](const HttpRequest& request) {
    if (request.target.find("continue=") == std::string::npos) {
      return json_response(200, R"({"metadata":{"resourceVersion":"40","continue":"p2"},
                                    "items":[{"metadata":{"name":"a"}}]})");
    }
    return json_response(200, R"({"metadata":{"resourceVersion":"41"},
                                  "items":[{"metadata":{"name":"b"}}]})");
  });
  KubeClient client(transport);
  ListOptions options;
  options.limit = 1;
  options.resource_version = "0";
  nlohmann::json list = client.list_all(kLlmd, "default", options);
  ASSERT_EQ(list["items"].size(), 2u);
  EXPECT_EQ(list["metadata"]["resourceVersion"], "40");
  EXPECT_FALSE(list["metadata"].contains("continue"));
  auto requests = transport->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[0].target.find("resourceVersion=0"), std::string::npos);
  EXPECT_EQ(requests[1].target.find("resourceVersion"), std::string::npos);
  EXPECT_NE(requests[1].target.find("continue=p2"), std::string::npos);
}

TEST(KubeClient, PatchTypesDeleteOptionsAndStatus) {
  auto transport = std::make_shared<FakeTransport>(
      [](const HttpRequest&) { return json_response(200, R"({"metadata":{"name":"x"}})"); });
  KubeClient client(transport);
  client.patch(kLlmd, "ns", "x", PatchType::kMerge, {{"spec", {{"replicas", 2}}}});
  client.patch(kLlmd, "ns", "x", PatchType::kJson, nlohmann::json::array());
  client.patch(kLlmd, "ns", "x", PatchType::kApply, {{"apiVersion", "v"}},
               {"tester", true, "status"});
  DeleteOptions remove;
  remove.propagation_policy = "Foreground";
  remove.precondition_uid = "u-1";
  client.remove(kLlmd, "ns", "x", remove);
  client.update_status(kLlmd, {{"metadata", {{"name", "x"}, {"namespace", "ns"}}}});
  auto requests = transport->requests();
  ASSERT_EQ(requests.size(), 5u);
  auto content_type = [](const HttpRequest& r) {
    for (auto& [k, v] : r.headers) {
      if (k == "Content-Type") return v;
    }
    return std::string();
  };
  EXPECT_EQ(content_type(requests[0]), "application/merge-patch+json");
  EXPECT_EQ(content_type(requests[1]), "application/json-patch+json");
  EXPECT_EQ(content_type(requests[2]), "application/apply-patch+yaml");
  EXPECT_NE(requests[2].target.find("/x/status?fieldManager=tester&force=true"), std::string::npos);
  EXPECT_EQ(requests[3].method, "DELETE");
  auto body = nlohmann::json::parse(requests[3].body);
  EXPECT_EQ(body["propagationPolicy"], "Foreground");
  EXPECT_EQ(body["preconditions"]["uid"], "u-1");
  EXPECT_EQ(requests[4].method, "PUT");
  EXPECT_NE(requests[4].target.find("/ns/llmdeployments/x/status"), std::string::npos);
}

TEST(KubeClient, WatchDecodesAByteAtATimeAndThrowsExpired) {
  auto transport = std::make_shared<FakeTransport>([](const HttpRequest& request) {
    EXPECT_NE(request.target.find("watch=true"), std::string::npos);
    return json_response(
        200, R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}})"
             "\n"
             R"({"type":"ERROR","object":)" +
                 status_body(410, "Expired", "too old resource version: 1 (9)") + "}\n");
  });
  KubeClient client(transport);
  std::vector<std::string> seen;
  EXPECT_THROW(client.watch(
                   kLlmd, "", {}, [&seen](WatchEvent event) { seen.push_back(event.type); },
                   [] { return true; }),
               ExpiredError);
  EXPECT_EQ(seen, std::vector<std::string>{"ADDED"});
}

}  // namespace
}  // namespace llmops::kube
