// The operator's LLMDeployment controller against a scripted API server (fake transport):
// status is written first with the cached resourceVersion, a 409 there is retried and
// writes nothing else, and a Pod create answered 409 AlreadyExists (a create repeated
// after informer lag or a restart) is not an error.
#include "llmdeployment/deployment_controller.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fake_transport.h"

namespace llmops::operator_main {
namespace {

using kube::HttpRequest;
using kube::HttpResponse;
using kube::testing::FakeTransport;
using kube::testing::json_response;
using kube::testing::status_body;
using nlohmann::json;
using namespace std::chrono_literals;

class NoMetrics : public MetricsFetcher {
 public:
  std::string get(const std::string& url) override {
    throw std::runtime_error(url + ": not in this test");
  }
};

json deployment() {
  return {{"apiVersion", "llmops.dev/v1alpha1"},
          {"kind", "LLMDeployment"},
          {"metadata",
           {{"name", "story"},
            {"namespace", "default"},
            {"uid", "uid-1"},
            {"generation", 1},
            {"resourceVersion", "7"}}},
          {"spec",
           {{"replicas", 2},
            {"model", {{"name", "story"}, {"uri", "file:///m.gguf"}}},
            {"runtime", {{"image", "llmops-runtime"}}}}}};
}

class ScriptedApi {
 public:
  json object = deployment();            // the LLMDeployment the API lists
  std::atomic<int> status_conflicts{1};  // answer 409 to this many status writes
  std::atomic<int> already_exists{0};    // pod creates answered 409 AlreadyExists

  HttpResponse handle(const HttpRequest& request) {
    const std::string& target = request.target;
    if (target.find("watch=true") != std::string::npos) {
      std::this_thread::sleep_for(20ms);  // an empty watch that ends
      return {200, {}, ""};
    }
    if (request.method == "GET") {
      json items = json::array();
      if (target.rfind("/apis/llmops.dev/v1alpha1/llmdeployments", 0) == 0) items.push_back(object);
      return json_response(
          200, json{{"kind", "List"}, {"metadata", {{"resourceVersion", "10"}}}, {"items", items}}
                   .dump());
    }
    if (request.method == "PUT" &&
        target.find("/llmdeployments/story/status") != std::string::npos) {
      const json body = json::parse(request.body);
      EXPECT_EQ(body["metadata"]["resourceVersion"], "7") << "conditional on what was read";
      if (status_conflicts.fetch_sub(1) > 0)
        return json_response(409, status_body(409, "Conflict", "the object has been modified"));
      return json_response(200, request.body);
    }
    if (request.method == "POST" && target.rfind("/api/v1/namespaces/default/pods?", 0) == 0) {
      const json body = json::parse(request.body);
      if (body["metadata"]["name"] == "story-r1-0") {
        ++already_exists;
        return json_response(409, status_body(409, "AlreadyExists", "pods exists"));
      }
      return json_response(201, request.body);
    }
    if (request.method == "POST") return json_response(201, request.body);
    if (request.method == "PATCH") return json_response(200, "{}");
    return json_response(404, status_body(404, "NotFound", "not scripted"));
  }
};

int count(const std::vector<HttpRequest>& requests, const std::string& method,
          const std::string& path_part) {
  int n = 0;
  for (const auto& request : requests)
    if (request.method == method && request.target.find(path_part) != std::string::npos) ++n;
  return n;
}

TEST(DeploymentController, StatusFirstConflictRetriedCreatesIdempotent) {
  ScriptedApi api;
  auto transport = std::make_shared<FakeTransport>(
      [&api](const HttpRequest& request) { return api.handle(request); });
  auto client = std::make_shared<kube::KubeClient>(transport);
  kube::Informer deployments(client, kLlmDeployments);
  kube::ReflectorOptions by_label;
  by_label.label_selector = reconcilers::kDeploymentLabel;
  kube::Informer pods(client, kPods, "", by_label);
  kube::Informer services(client, kServices, "", by_label);
  pods.add_index(kOwnerIndex, kube::index_by_owner_uid);
  kube::EventRecorder events(client, "llmops-operator", "test");
  DeploymentController controller(
      client, deployments, pods, services, events,
      std::make_shared<CanarySampler>(std::make_shared<NoMetrics>(), std::vector<std::string>{}),
      {});
  for (auto* informer : {&deployments, &pods, &services}) informer->start();
  for (auto* informer : {&deployments, &pods, &services}) ASSERT_TRUE(informer->wait_for_sync(5s));

  const kube::Result conflicted = controller.reconcile("default/story");
  EXPECT_EQ(conflicted.kind(), kube::Result::Kind::kError) << "retried with backoff";
  EXPECT_EQ(count(transport->requests(), "POST", "/pods"), 0) << "nothing after a failed status";

  const kube::Result done = controller.reconcile("default/story");
  EXPECT_EQ(done.kind(), kube::Result::Kind::kDone) << done.message();
  EXPECT_EQ(api.already_exists.load(), 1) << "story-r1-0 existed already: not an error";
  const auto requests = transport->requests();
  EXPECT_EQ(count(requests, "PUT", "/llmdeployments/story/status"), 2);
  EXPECT_EQ(count(requests, "POST", "/api/v1/namespaces/default/pods"), 2);
  EXPECT_EQ(count(requests, "POST", "/api/v1/namespaces/default/services"), 1);
  EXPECT_GE(count(requests, "POST", "/events"), 1) << "RevisionCreated, Deployed";
  // The status write precedes every pod create.
  std::size_t status_at = 0, first_pod_at = requests.size();
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (requests[i].method == "PUT" && requests[i].target.find("/status") != std::string::npos)
      status_at = i;
    if (requests[i].method == "POST" && requests[i].target.find("/pods") != std::string::npos &&
        first_pod_at == requests.size())
      first_pod_at = i;
  }
  EXPECT_LT(status_at, first_pod_at);

  for (auto* informer : {&deployments, &pods, &services}) informer->stop();
}

// spec: null (or any spec the reconciler refuses) is said in the status, where kubectl
// shows it, and in one event; nothing else is written and it is not retried.
TEST(DeploymentController, InvalidSpecIsWrittenToTheStatus) {
  ScriptedApi api;
  api.object["spec"] = nullptr;
  api.status_conflicts = 0;
  auto transport = std::make_shared<FakeTransport>(
      [&api](const HttpRequest& request) { return api.handle(request); });
  auto client = std::make_shared<kube::KubeClient>(transport);
  kube::Informer deployments(client, kLlmDeployments);
  kube::ReflectorOptions by_label;
  by_label.label_selector = reconcilers::kDeploymentLabel;
  kube::Informer pods(client, kPods, "", by_label);
  kube::Informer services(client, kServices, "", by_label);
  pods.add_index(kOwnerIndex, kube::index_by_owner_uid);
  kube::EventRecorder events(client, "llmops-operator", "test");
  DeploymentController controller(
      client, deployments, pods, services, events,
      std::make_shared<CanarySampler>(std::make_shared<NoMetrics>(), std::vector<std::string>{}),
      {});
  for (auto* informer : {&deployments, &pods, &services}) informer->start();
  for (auto* informer : {&deployments, &pods, &services}) ASSERT_TRUE(informer->wait_for_sync(5s));
  // The spec's own parse error is what the user reads, not a later one.
  std::string parse_error;
  try {
    reconcilers::parse_deployment_spec(api.object);
  } catch (const std::invalid_argument& error) {
    parse_error = error.what();
  }
  ASSERT_FALSE(parse_error.empty());
  const kube::Result result = controller.reconcile("default/story");
  EXPECT_EQ(result.kind(), kube::Result::Kind::kTerminalError);
  EXPECT_EQ(result.message(), parse_error);
  const auto requests = transport->requests();
  ASSERT_EQ(count(requests, "PUT", "/llmdeployments/story/status"), 1);
  for (const auto& request : requests) {
    if (request.method != "PUT") continue;
    const json status = json::parse(request.body)["status"];
    EXPECT_EQ(status["phase"], "Degraded");
    bool invalid = false;
    for (const auto& condition : status["conditions"]) {
      if (condition["type"] == "Degraded" && condition["reason"] == "InvalidSpec") {
        invalid = true;
        EXPECT_EQ(condition["message"], parse_error);
      }
    }
    EXPECT_TRUE(invalid) << status;
  }
  EXPECT_EQ(count(requests, "POST", "/events"), 1);
  EXPECT_EQ(count(requests, "POST", "/pods") + count(requests, "POST", "/services"), 0);
  for (auto* informer : {&deployments, &pods, &services}) informer->stop();
}

TEST(DeploymentController, ObservesPodFailures) {
  const json pod = {
      {"metadata", {{"name", "story-r2-0"}, {"labels", {{"llmops.dev/revision", "2"}}}}},
      {"status",
       {{"phase", "Running"},
        {"containerStatuses",
         json::array({{{"name", "runtime"},
                       {"restartCount", 4},
                       {"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}},
                       {"lastState",
                        {{"terminated",
                          {{"exitCode", 1},
                           {"reason", "Error"},
                           {"message", "error: sha256 mismatch for file:///m.gguf\n"}}}}}}})}}}};
  const reconcilers::ObservedPod observed = observe_pod(pod);
  EXPECT_EQ(observed.restarts, 4);
  EXPECT_EQ(observed.failure,
            "container runtime: CrashLoopBackOff; last exit code 1 (Error): error: sha256 "
            "mismatch for file:///m.gguf");
  json fine = pod;
  fine["status"]["containerStatuses"][0]["state"] = {{"running", json::object()}};
  fine["status"]["containerStatuses"][0]["lastState"] = json::object();
  EXPECT_EQ(observe_pod(fine).failure, "");
}

TEST(DeploymentController, ObservesPods) {
  const json pod = {{"metadata",
                     {{"name", "story-r3-1"},
                      {"labels", {{"llmops.dev/revision", "3"}, {"llmops.dev/track", "canary"}}},
                      {"creationTimestamp", "2026-01-01T00:00:00Z"},
                      {"deletionTimestamp", "2026-01-01T00:01:00Z"}}},
                    {"status",
                     {{"phase", "Running"},
                      {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
  const reconcilers::ObservedPod observed = observe_pod(pod);
  EXPECT_EQ(observed.revision, 3);
  EXPECT_EQ(observed.track, "canary");
  EXPECT_TRUE(observed.ready);
  EXPECT_TRUE(observed.deleting);
  EXPECT_EQ(observed.phase, "Running");
  json stray = pod;
  stray["metadata"]["labels"]["llmops.dev/revision"] = "x";
  EXPECT_EQ(observe_pod(stray).revision, 0);
}

}  // namespace
}  // namespace llmops::operator_main
