#include "router/route_sources.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace llmops::router {
namespace {

using nlohmann::json;

TEST(StaticConfig, ParsesTheDocumentedFormat) {
  const auto table = parse_static_config(R"(
deployments:
  - name: storyteller            # matched against the request's "model"
    revisions:
      - {revision: 2, weight: 10, endpoints: ["127.0.0.1:18082", "[::1]:18083"]}
      - {revision: 1, weight: 90, endpoints: ["127.0.0.1:18081"]}
  - name: alpha
    stable: 3
    revisions:
      - {revision: 3, weight: 100, endpoints: ["localhost:9000"]}
)");
  ASSERT_EQ(table.deployments.size(), 2u);
  const auto* story = table.find_model("storyteller");
  ASSERT_NE(story, nullptr);
  ASSERT_EQ(story->revisions.size(), 2u);
  EXPECT_EQ(story->revisions[0].revision, 1);  // sorted
  EXPECT_EQ(story->revisions[0].weight, 90);
  EXPECT_EQ(story->revisions[1].endpoints[1].host, "::1");
  EXPECT_EQ(story->revisions[1].endpoints[1].port, 18083);
  EXPECT_EQ(story->effective_stable(), 1);  // the weightiest
  EXPECT_EQ(table.find_model("alpha")->effective_stable(), 3);
  EXPECT_EQ(table.find_model("nope"), nullptr);
}

TEST(StaticConfig, RejectsBadInputWithTheFieldAtFault) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  for (const auto& c : std::vector<Case>{
           {"deployments: [", "malformed YAML"},
           {"other: 1", "deployments"},
           {"deployments: {a: 1}", "must be a list"},
           {"deployments: [{revisions: []}]", "deployments[0].name"},
           {"deployments: [{name: a}]", "revisions must be a list"},
           {"deployments: [{name: a, revisions: [{weight: 1}]}]", "revision is required"},
           {"deployments: [{name: a, revisions: [{revision: 1, weight: -1}]}]", "negative"},
           {"deployments: [{name: a, revisions: [{revision: x}]}]", "wrong type"},
           {"deployments: [{name: a, revisions: [{revision: 1, endpoints: [\"nohost\"]}]}]",
            "host:port"},
           {"deployments: [{name: a, revisions: [{revision: 1, endpoints: [\"h:99999\"]}]}]",
            "valid port"},
           {"deployments: [{name: a, revisions: [{revision: 1}, {revision: 1}]}]", "twice"},
           {"deployments: [{name: a, revisions: []}, {name: a, revisions: []}]", "also serves"},
           // Revisions count from 1, as the operator numbers them.
           {"deployments: [{name: a, revisions: [{revision: -1, weight: 100}]}]",
            "revision must be at least 1"},
           {"deployments: [{name: a, revisions: [{revision: 0, weight: 100}]}]",
            "revision must be at least 1"},
           // A typo must not silently drop a setting.
           {"deployments: [{name: a, revisions: [], wieght: 3}]", "unknown field \"wieght\""},
           {"deployments: [{name: a, revisions: [{revision: 1, wieght: 3}]}]",
            "unknown field \"wieght\""},
           {"deployments: []\nroutes: []", "unknown field \"routes\""},
           // stable must be one of the deployment's revisions.
           {"deployments: [{name: a, stable: 3, revisions: [{revision: 1, weight: 100}]}]",
            "stable revision 3 is not among its revisions"},
       }) {
    try {
      parse_static_config(c.yaml);
      ADD_FAILURE() << "accepted: " << c.yaml;
    } catch (const ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find(c.message), std::string::npos)
          << c.yaml << " -> " << error.what();
    }
  }
}

json deployment(const std::string& name, const std::string& model, json traffic,
                std::optional<int> stable, const std::string& created = "2026-01-01T00:00:00Z") {
  json object = {
      {"metadata", {{"name", name}, {"namespace", "ns"}, {"creationTimestamp", created}}},
      {"spec", {{"model", {{"name", model}}}}},
      {"status", {{"traffic", traffic}}}};
  if (stable) object["status"]["stableRevision"] = *stable;
  return object;
}

json pod(const std::string& name, const std::string& deployment, int revision,
         const std::string& ip, bool ready, bool deleting = false) {
  json object = {
      {"metadata",
       {{"name", name},
        {"namespace", "ns"},
        {"labels",
         {{"llmops.dev/deployment", deployment},
          {"llmops.dev/revision", std::to_string(revision)}}}}},
      {"spec",
       {{"containers",
         json::array({{{"name", "runtime"},
                       {"ports", json::array({{{"name", "http"}, {"containerPort", 8080}}})}}})}}},
      {"status",
       {{"phase", "Running"},
        {"podIP", ip},
        {"conditions", json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}}})}}}};
  if (deleting) object["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  return object;
}

TEST(KubeRoutes, FromDeploymentsAndPods) {
  const auto table = build_kube_routes(
      {deployment(
          "story", "storyteller",
          json::array({{{"revision", 3}, {"weight", 90}}, {{"revision", 4}, {"weight", 10}}}), 3)},
      {pod("story-3-a", "story", 3, "10.0.0.1", true),
       pod("story-3-b", "story", 3, "10.0.0.2", false),
       pod("story-4-a", "story", 4, "10.0.0.3", true, true),
       pod("story-5-a", "story", 5, "10.0.0.4", true),
       pod("other-1", "other", 3, "10.0.0.5", true)});
  const auto* route = table.find_model("storyteller");
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->name, "story");
  EXPECT_EQ(route->ns, "ns");
  EXPECT_EQ(route->stable_revision, 3);
  ASSERT_EQ(route->revisions.size(), 2u);
  ASSERT_EQ(route->revisions[0].endpoints.size(), 2u);
  EXPECT_TRUE(route->revisions[0].endpoints[0].ready);
  EXPECT_EQ(route->revisions[0].endpoints[0].address(), "10.0.0.1:8080");
  EXPECT_FALSE(route->revisions[0].endpoints[1].ready);
  ASSERT_EQ(route->revisions[1].endpoints.size(), 1u);
  EXPECT_FALSE(route->revisions[1].endpoints[0].ready);  // being deleted: drains
}

TEST(KubeRoutes, NoTrafficYetRoutesToStableAndConflictsKeepTheOldest) {
  std::vector<std::string> warnings;
  const auto table =
      build_kube_routes({deployment("young", "m", json::array({{{"revision", 1}, {"weight", 100}}}),
                                    1, "2026-02-01T00:00:00Z"),
                         deployment("old", "m", nullptr, 2, "2026-01-01T00:00:00Z"),
                         deployment("fresh", "f", nullptr, std::nullopt)},
                        {}, &warnings);
  ASSERT_EQ(table.deployments.size(), 2u);
  EXPECT_EQ(table.find_model("m")->name, "old");
  ASSERT_EQ(table.find_model("m")->revisions.size(), 1u);
  EXPECT_EQ(table.find_model("m")->revisions[0].revision, 2);
  EXPECT_EQ(table.find_model("m")->revisions[0].weight, 100);
  EXPECT_TRUE(table.find_model("f")->revisions.empty());
  ASSERT_EQ(warnings.size(), 1u);
}

// A file written in place in several steps must not be applied half-written: a change is
// loaded only once the file has stayed the same for the quiet period.
TEST(ReloadDebouncer, AppliesAChangeOnlyAfterTheFileSettled) {
  using std::chrono::milliseconds;
  const auto t0 = std::chrono::steady_clock::time_point{};
  ReloadDebouncer debouncer(milliseconds(1000));
  debouncer.loaded("A");
  EXPECT_FALSE(debouncer.ready("A", t0));                      // unchanged
  EXPECT_FALSE(debouncer.ready("B", t0 + milliseconds(100)));  // first half written
  EXPECT_FALSE(debouncer.ready("C", t0 + milliseconds(600)));  // still being written
  EXPECT_FALSE(debouncer.ready("C", t0 + milliseconds(1500)));
  EXPECT_TRUE(debouncer.ready("C", t0 + milliseconds(1600)));  // quiet for 1 s
  debouncer.loaded("C");
  EXPECT_FALSE(debouncer.ready("C", t0 + milliseconds(5000)));
  // A rejected version is not retried until the file changes again.
  EXPECT_FALSE(debouncer.ready("D", t0 + milliseconds(5000)));
  EXPECT_TRUE(debouncer.ready("D", t0 + milliseconds(6000)));
  debouncer.rejected("D");
  EXPECT_FALSE(debouncer.ready("D", t0 + milliseconds(9000)));
  EXPECT_FALSE(debouncer.ready("E", t0 + milliseconds(9000)));
  EXPECT_TRUE(debouncer.ready("E", t0 + milliseconds(10000)));
}

TEST(StaticRouteSource, ReloadsOnChangeAndKeepsTheLastGoodTable) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("router-static-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "routes.yaml";
  auto write = [&](const std::string& text) {
    const auto tmp = dir / "tmp.yaml";
    std::ofstream(tmp) << text;
    std::filesystem::rename(tmp, path);  // atomically, as a ConfigMap update does
  };
  write("deployments: [{name: a, revisions: [{revision: 1, weight: 100}]}]");
  std::mutex mutex;
  std::vector<RoutingTable> tables;
  StaticRouteSource source(
      path,
      [&](RoutingTable table) {
        std::lock_guard lock(mutex);
        tables.push_back(std::move(table));
      },
      std::chrono::milliseconds(10), std::chrono::milliseconds(30));
  source.start();
  auto wait_for = [&](std::size_t n) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard lock(mutex);
        if (tables.size() >= n) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  ASSERT_TRUE(wait_for(1));
  write(
      "deployments: [{name: a, revisions: [{revision: 1, weight: 0}, {revision: 2, weight: "
      "100}]}]");
  ASSERT_TRUE(wait_for(2));
  write("deployments: [");  // broken: ignored
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  write("deployments: [{name: b, revisions: []}]");
  ASSERT_TRUE(wait_for(3));
  source.stop();
  std::lock_guard lock(mutex);
  ASSERT_EQ(tables.size(), 3u);
  EXPECT_EQ(tables[1].find_model("a")->revisions.size(), 2u);
  EXPECT_NE(tables[2].find_model("b"), nullptr);
  std::filesystem::remove_all(dir);
  EXPECT_THROW(StaticRouteSource(dir / "missing.yaml", [](RoutingTable) {}).start(), ConfigError);
}

}  // namespace
}  // namespace llmops::router
