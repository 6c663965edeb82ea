#include "llmops/kube/informer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fake_transport.h"

namespace llmops::kube {
namespace {

using namespace std::chrono_literals;
using testing::FakeTransport;
using testing::json_response;
using testing::status_body;

const GroupVersionResource kLlmd{"llmops.dev", "v1alpha1", "llmdeployments", true};

std::string item(const std::string& name, const std::string& rv) {
  return R"({"metadata":{"name":")" + name + R"(","namespace":"default","resourceVersion":")" + rv +
         R"("}})";
}

// A scripted server: first list has a and b; the first watch modifies a and then says
// 410; the relist finds a (changed) and c but not b; later watches stay empty.
class ScriptedServer {
 public:
  HttpResponse handle(const HttpRequest& request) {
    std::lock_guard lock(mutex_);
    bool watch = request.target.find("watch=true") != std::string::npos;
    if (!watch) {
      ++lists_;
      if (lists_ == 1) {
        return json_response(200, R"({"metadata":{"resourceVersion":"10"},"items":[)" +
                                      item("a", "5") + "," + item("b", "6") + "]}");
      }
      return json_response(200, R"({"metadata":{"resourceVersion":"30"},"items":[)" +
                                    item("a", "25") + "," + item("c", "28") + "]}");
    }
    ++watches_;
    watch_targets_.push_back(request.target);
    if (watches_ == 1) {
      return json_response(
          200, R"({"type":"MODIFIED","object":)" + item("a", "11") + "}\n" +
                   R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"12"}}})"
                   "\n" +
                   R"({"type":"ERROR","object":)" +
                   status_body(410, "Expired", "too old resource version: 12 (20)") + "}\n");
    }
    std::this_thread::sleep_for(5ms);  // an empty watch that the server ends
    return json_response(200, "");
  }
  std::vector<std::string> watch_targets() {
    std::lock_guard lock(mutex_);
    return watch_targets_;
  }
  int lists() {
    std::lock_guard lock(mutex_);
    return lists_;
  }

 private:
  std::mutex mutex_;
  int lists_ = 0;
  int watches_ = 0;
  std::vector<std::string> watch_targets_;
};

TEST(Informer, ListWatchRelistOn410KeepsCacheAndTellsHandlers) {
  ScriptedServer server;
  auto transport = std::make_shared<FakeTransport>(
      [&server](const HttpRequest& request) { return server.handle(request); });
  auto client = std::make_shared<KubeClient>(transport);
  ReflectorOptions options;
  options.initial_backoff = 1ms;
  std::atomic<int> restarts{0};
  options.on_watch_restart = [&restarts](const std::string& reason) {
    if (reason == "expired") ++restarts;
  };
  Informer informer(client, kLlmd, "default", options);
  std::mutex mutex;
  std::vector<std::string> events;
  informer.add_event_handlers({[&](const ObjectPtr& o) {
                                 std::lock_guard lock(mutex);
                                 events.push_back("add " + object_key(*o));
                               },
                               [&](const ObjectPtr&, const ObjectPtr& o) {
                                 std::lock_guard lock(mutex);
                                 events.push_back("update " + object_key(*o) + "@" +
                                                  resource_version_of(*o));
                               },
                               [&](const ObjectPtr& o) {
                                 std::lock_guard lock(mutex);
                                 events.push_back("delete " + object_key(*o));
                               }});
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(5s));
  for (int i = 0; i < 500 && server.lists() < 2; ++i) std::this_thread::sleep_for(5ms);
  for (int i = 0; i < 500 && server.watch_targets().size() < 3; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  informer.stop();

  EXPECT_EQ(informer.store().size(), 2u);
  EXPECT_EQ(resource_version_of(*informer.store().get("default/a")), "25");
  EXPECT_NE(informer.store().get("default/c"), nullptr);
  EXPECT_EQ(informer.store().get("default/b"), nullptr);
  EXPECT_EQ(restarts.load(), 1);
  std::vector<std::string> expected = {"add default/a",       "add default/b",
                                       "update default/a@11", "update default/a@25",
                                       "add default/c",       "delete default/b"};
  EXPECT_EQ(events, expected);
  auto targets = server.watch_targets();
  ASSERT_GE(targets.size(), 2u);
  EXPECT_NE(targets[0].find("resourceVersion=10"), std::string::npos) << targets[0];
  EXPECT_NE(targets[0].find("allowWatchBookmarks=true"), std::string::npos);
  EXPECT_NE(targets[0].find("timeoutSeconds="), std::string::npos);
  EXPECT_NE(targets[1].find("resourceVersion=30"), std::string::npos) << "after relist";
}

}  // namespace
}  // namespace llmops::kube
