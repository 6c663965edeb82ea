#include "object_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "status.h"

namespace llmops::devcluster {
namespace {

using Json = nlohmann::json;

Json object(const std::string& ns, const std::string& name, int value = 0) {
  Json metadata = {{"name", name}};
  if (!ns.empty()) metadata["namespace"] = ns;
  return {{"metadata", metadata}, {"spec", {{"value", value}}}};
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("object-store-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(ObjectStore, EveryWriteTakesTheNextResourceVersion) {
  ObjectStore store({"", 100, 100});
  auto a = store.put("/pods", object("ns", "a"));
  auto b = store.put("/pods", object("ns", "b"));
  auto a2 = store.put("/pods", object("ns", "a", 1));
  EXPECT_EQ(a["metadata"]["resourceVersion"], "1");
  EXPECT_EQ(b["metadata"]["resourceVersion"], "2");
  EXPECT_EQ(a2["metadata"]["resourceVersion"], "3");
  auto removed = store.remove("/pods", "ns", "b");
  ASSERT_TRUE(removed);
  EXPECT_EQ((*removed)["metadata"]["resourceVersion"], "4");
  EXPECT_FALSE(store.get("/pods", "ns", "b"));
  EXPECT_FALSE(store.remove("/pods", "ns", "b"));
  EXPECT_EQ(store.resourceVersion(), 4u);
}

TEST(ObjectStore, ListsByNamespaceInKeyOrder) {
  ObjectStore store({"", 100, 100});
  store.put("/cm", object("b", "x"));
  store.put("/cm", object("a", "y"));
  store.put("/cm", object("a", "x"));
  store.put("/cm", object("ab", "z"));
  auto all = store.list("/cm", "");
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0]["metadata"]["name"], "x");
  EXPECT_EQ(all[0]["metadata"]["namespace"], "a");
  EXPECT_EQ(store.list("/cm", "a").size(), 2u);  // not "ab"
  EXPECT_EQ(store.listNamespace("ab").size(), 1u);
}

TEST(ObjectStore, WatchReplaysHistoryThenFollows) {
  ObjectStore store({"", 100, 100});
  store.put("/pods", object("ns", "a"));
  store.put("/other", object("ns", "o"));
  store.put("/pods", object("ns", "a", 1));
  std::vector<std::pair<std::string, uint64_t>> seen;
  auto id = store.watch("/pods", 1,
                        [&](const StoreEvent& e) { seen.emplace_back(e.type, e.resourceVersion); });
  store.remove("/pods", "ns", "a");
  store.unwatch(id);
  store.put("/pods", object("ns", "c"));
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, uint64_t>>{{"MODIFIED", 3}, {"DELETED", 4}}));
}

TEST(ObjectStore, WatchBeyondTheHistoryIsExpired) {
  ObjectStore store({"", 3, 100});
  for (int i = 0; i < 6; ++i) store.put("/pods", object("ns", "a", i));
  EXPECT_EQ(store.compactedResourceVersion(), 3u);
  try {
    store.watch("/pods", 2, [](const StoreEvent&) {});
    FAIL() << "expected 410";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.code(), 410);
    EXPECT_EQ(error.reason(), "Expired");
  }
  int events = 0;
  store.watch("/pods", 3, [&](const StoreEvent&) { ++events; });
  EXPECT_EQ(events, 3);
}

TEST(ObjectStore, SurvivesRestartWithHistory) {
  TempDir dir;
  {
    ObjectStore store({dir.path(), 100, 3});  // snapshots every 3 writes, log in between
    for (int i = 0; i < 5; ++i) store.put("/pods", object("ns", "p" + std::to_string(i), i));
    store.remove("/pods", "ns", "p0");
  }
  ObjectStore reopened({dir.path(), 100, 3});
  EXPECT_EQ(reopened.resourceVersion(), 6u);
  EXPECT_FALSE(reopened.get("/pods", "ns", "p0"));
  EXPECT_EQ((*reopened.get("/pods", "ns", "p4"))["spec"]["value"], 4);
  std::vector<uint64_t> versions;
  reopened.watch("/pods", 4, [&](const StoreEvent& e) { versions.push_back(e.resourceVersion); });
  EXPECT_EQ(versions, (std::vector<uint64_t>{5, 6}));
  EXPECT_EQ(reopened.put("/pods", object("ns", "q"))["metadata"]["resourceVersion"], "7");
}

TEST(ObjectStore, IgnoresATornLastLogLine) {
  TempDir dir;
  {
    ObjectStore store({dir.path(), 100, 1000});
    store.put("/pods", object("ns", "a"));
    store.put("/pods", object("ns", "b"));
  }
  {
    std::ofstream log(dir.path() + "/store.log.jsonl", std::ios::app);
    log << R"({"rv":3,"type":"ADDED","resource":"/pods","object":{"metad)";
  }
  ObjectStore reopened({dir.path(), 100, 1000});
  EXPECT_EQ(reopened.resourceVersion(), 2u);
  EXPECT_EQ(reopened.list("/pods", "ns").size(), 2u);
}

// The indexes the garbage collector uses instead of scanning the store: dependents by
// owner UID and objects being deleted, kept on every write, removal and reload.
TEST(ObjectStore, IndexesDependentsAndDeletingObjects) {
  TempDir dir;
  auto owned = [](const std::string& name, std::vector<std::string> owners) {
    Json o = object("ns", name);
    for (const auto& uid : owners) o["metadata"]["ownerReferences"].push_back({{"uid", uid}});
    return o;
  };
  auto names = [](const std::vector<std::pair<std::string, Json>>& objects) {
    std::vector<std::string> out;
    for (const auto& [resource, o] : objects)
      out.push_back(resource + ":" + o["metadata"].value("name", ""));
    std::sort(out.begin(), out.end());
    return out;
  };
  {
    ObjectStore store({dir.path(), 100, 1000});
    store.put("/pods", owned("a", {"u1"}));
    store.put("/configmaps", owned("b", {"u1", "u2"}));
    store.put("/pods", owned("c", {"u2"}));
    EXPECT_EQ(names(store.dependentsOf("u1")),
              (std::vector<std::string>{"/configmaps:b", "/pods:a"}));
    store.put("/configmaps", owned("b", {"u2"}));  // owner reference removed
    EXPECT_EQ(names(store.dependentsOf("u1")), (std::vector<std::string>{"/pods:a"}));
    store.remove("/pods", "ns", "a");
    EXPECT_TRUE(store.dependentsOf("u1").empty());
    Json deleting = owned("c", {"u2"});
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
    store.put("/pods", deleting);
    EXPECT_EQ(names(store.listDeleting()), (std::vector<std::string>{"/pods:c"}));
    EXPECT_EQ(store.listNamespace("ns", 0, true).size(), 1u);  // b only
    EXPECT_EQ(store.listNamespace("ns", 1).size(), 1u);
  }
  ObjectStore reopened({dir.path(), 100, 1000});
  EXPECT_EQ(names(reopened.dependentsOf("u2")),
            (std::vector<std::string>{"/configmaps:b", "/pods:c"}));
  EXPECT_EQ(names(reopened.listDeleting()), (std::vector<std::string>{"/pods:c"}));
}

}  // namespace
}  // namespace llmops::devcluster
