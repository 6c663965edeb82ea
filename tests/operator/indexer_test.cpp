#include "llmops/kube/indexer.h"

#include <gtest/gtest.h>

#include "llmops/kube/owner_refs.h"

namespace llmops::kube {
namespace {

ObjectPtr pod(const std::string& name, const std::string& deployment, const std::string& owner_uid,
              const std::string& rv = "1") {
  nlohmann::json object = {{"metadata",
                            {{"name", name},
                             {"namespace", "default"},
                             {"resourceVersion", rv},
                             {"labels", {{"llmops.dev/deployment", deployment}}},
                             {"ownerReferences",
                              {{{"apiVersion", "llmops.dev/v1alpha1"},
                                {"kind", "LLMDeployment"},
                                {"name", deployment},
                                {"uid", owner_uid},
                                {"controller", true}}}}}}};
  return std::make_shared<const nlohmann::json>(std::move(object));
}

TEST(Indexer, KeysAndIndexesFollowUpdatesAndDeletes) {
  Indexer store;
  store.add_index("owner", index_by_owner_uid);
  store.add_index("deployment", index_by_label("llmops.dev/deployment"));
  EXPECT_EQ(store.upsert(pod("p1", "story", "u1")), nullptr);
  store.upsert(pod("p2", "story", "u1"));
  store.upsert(pod("p3", "chat", "u2"));
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(store.by_index("owner", "u1").size(), 2u);
  EXPECT_EQ(store.by_index("deployment", "chat").size(), 1u);
  ObjectPtr old = store.upsert(pod("p2", "chat", "u2", "2"));  // relabelled
  ASSERT_NE(old, nullptr);
  EXPECT_EQ(resource_version_of(*old), "1");
  EXPECT_EQ(store.by_index("owner", "u1").size(), 1u);
  EXPECT_EQ(store.by_index("deployment", "chat").size(), 2u);
  EXPECT_NE(store.remove("default/p3"), nullptr);
  EXPECT_EQ(store.remove("default/p3"), nullptr);
  EXPECT_EQ(store.by_index("deployment", "chat").size(), 1u);
  EXPECT_EQ(store.get("default/p1")->at("metadata")["name"], "p1");
  EXPECT_THROW(store.by_index("nope", "x"), std::out_of_range);
}

TEST(Indexer, IndexAddedLaterCoversExistingObjects) {
  Indexer store;
  store.upsert(pod("p1", "story", "u1"));
  store.add_index("owner", index_by_owner_uid);
  EXPECT_EQ(store.by_index("owner", "u1").size(), 1u);
}

TEST(ObjectKey, NamespacedAndClusterScoped) {
  EXPECT_EQ(object_key({{"metadata", {{"name", "a"}, {"namespace", "ns"}}}}), "ns/a");
  EXPECT_EQ(object_key({{"metadata", {{"name", "node-1"}}}}), "node-1");
}

TEST(OwnerRefs, ControllerReferenceMapsToOwnerKey) {
  EXPECT_EQ(controller_key(*pod("p", "story", "u"), "llmops.dev", "LLMDeployment"),
            "default/story");
  EXPECT_EQ(controller_key(*pod("p", "story", "u"), "apps", "ReplicaSet"), std::nullopt);
  nlohmann::json not_controller = *pod("p", "story", "u");
  not_controller["metadata"]["ownerReferences"][0]["controller"] = false;
  EXPECT_EQ(controller_key(not_controller, "llmops.dev", "LLMDeployment"), std::nullopt);
  nlohmann::json owner = {{"apiVersion", "llmops.dev/v1alpha1"},
                          {"kind", "LLMDeployment"},
                          {"metadata", {{"name", "story"}, {"uid", "u9"}}}};
  auto ref = controller_reference(owner);
  EXPECT_EQ(ref["controller"], true);
  EXPECT_EQ(ref["blockOwnerDeletion"], true);
  EXPECT_EQ(ref["uid"], "u9");
}

}  // namespace
}  // namespace llmops::kube
