#include "server_side_apply.h"

#include <gtest/gtest.h>

#include "status.h"

namespace llmops::devcluster {
namespace {

using Json = nlohmann::json;

Json config(int replicas, const std::string& image) {
  return {{"apiVersion", "x/v1"},
          {"kind", "X"},
          {"metadata", {{"name", "a"}}},
          {"spec", {{"replicas", replicas}, {"image", image}}}};
}

TEST(ServerSideApply, CreatesWithOwnership) {
  Json object = serverSideApply(nullptr, config(2, "i:1"), "alice", "x/v1", false, "x", "xs");
  EXPECT_EQ(object["spec"]["replicas"], 2);
  ASSERT_EQ(object["metadata"]["managedFields"].size(), 1u);
  const auto& entry = object["metadata"]["managedFields"][0];
  EXPECT_EQ(entry["manager"], "alice");
  EXPECT_EQ(entry["operation"], "Apply");
  EXPECT_TRUE(entry["fieldsV1"]["f:spec"].contains("f:replicas"));
}

TEST(ServerSideApply, ConflictsUnlessForcedOrEqual) {
  Json object = serverSideApply(nullptr, config(2, "i:1"), "alice", "x/v1", false, "x", "xs");
  // Same values: shared ownership, no conflict.
  object = serverSideApply(object, config(2, "i:1"), "bob", "x/v1", false, "x", "xs");
  try {
    serverSideApply(object, config(3, "i:1"), "carol", "x/v1", false, "x", "xs");
    FAIL() << "expected a conflict";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.code(), 409);
    const auto& causes = error.details()["causes"];
    ASSERT_EQ(causes.size(), 2u);  // alice and bob both own .spec.replicas
    EXPECT_EQ(causes[0]["reason"], "FieldManagerConflict");
    EXPECT_EQ(causes[0]["field"], ".spec.replicas");
  }
  Json forced = serverSideApply(object, config(3, "i:1"), "carol", "x/v1", true, "x", "xs");
  EXPECT_EQ(forced["spec"]["replicas"], 3);
  EXPECT_THROW(serverSideApply(forced, config(2, "i:1"), "alice", "x/v1", false, "x", "xs"),
               ApiError);
}

TEST(ServerSideApply, DroppedFieldsGoWhenNobodyElseOwnsThem) {
  Json object = serverSideApply(nullptr, config(2, "i:1"), "alice", "x/v1", false, "x", "xs");
  Json smaller = {{"apiVersion", "x/v1"},
                  {"kind", "X"},
                  {"metadata", {{"name", "a"}}},
                  {"spec", {{"replicas", 2}}}};
  Json after = serverSideApply(object, smaller, "alice", "x/v1", false, "x", "xs");
  EXPECT_FALSE(after["spec"].contains("image"));
}

TEST(FieldOwnership, UpdatesTakeChangedFields) {
  Json object = serverSideApply(nullptr, config(2, "i:1"), "alice", "x/v1", false, "x", "xs");
  Json updated = object;
  updated["spec"]["replicas"] = 5;
  recordUpdate(updated, object, "kubectl-scale", "x/v1");
  try {
    serverSideApply(updated, config(2, "i:1"), "alice", "x/v1", false, "x", "xs");
    FAIL() << "expected a conflict with the updater";
  } catch (const ApiError& error) {
    EXPECT_NE(std::string(error.what()).find("kubectl-scale"), std::string::npos);
  }
}

}  // namespace
}  // namespace llmops::devcluster
