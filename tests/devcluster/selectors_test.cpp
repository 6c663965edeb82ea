#include "selectors.h"

#include <gtest/gtest.h>

#include "status.h"

namespace llmops::devcluster {
namespace {

TEST(LabelSelector, EqualityAndSetBasedRequirements) {
  const nlohmann::json labels = {{"app", "story"}, {"tier", "gold"}, {"canary", "true"}};
  const std::vector<std::pair<std::string, bool>> cases = {
      {"", true},
      {"app=story", true},
      {"app==story", true},
      {"app=other", false},
      {"app!=other", true},
      {"missing!=x", true},
      {"tier in (gold,silver)", true},
      {"tier in (silver)", false},
      {"tier notin (silver)", true},
      {"missing notin (x)", true},
      {"canary", true},
      {"!canary", false},
      {"!missing", true},
      {"app=story,tier in (gold), canary", true},
      {"app=story,tier=bronze", false},
  };
  for (const auto& [text, expected] : cases) {
    EXPECT_EQ(LabelSelector::parse(text).matches(labels), expected) << text;
  }
}

TEST(LabelSelector, RejectsMalformedSelectors) {
  for (const char* text : {"a in (b", "a in b)", "a,,b", "a=b c", "in (x)", "a=(b)"}) {
    EXPECT_THROW(LabelSelector::parse(text), ApiError) << text;
  }
}

TEST(LabelSelector, FromObject) {
  auto selector = LabelSelector::fromObject(
      {{"matchLabels", {{"app", "story"}}},
       {"matchExpressions", {{{"key", "tier"}, {"operator", "In"}, {"values", {"gold"}}}}}});
  EXPECT_TRUE(selector.matches({{"app", "story"}, {"tier", "gold"}}));
  EXPECT_FALSE(selector.matches({{"app", "story"}, {"tier", "tin"}}));
}

TEST(FieldSelector, SupportedFields) {
  nlohmann::json pod = {{"metadata", {{"name", "p"}, {"namespace", "ns"}}},
                        {"spec", {{"nodeName", "n1"}}},
                        {"status", {{"phase", "Running"}}}};
  EXPECT_TRUE(FieldSelector::parse("metadata.name=p").matches(pod));
  EXPECT_TRUE(FieldSelector::parse("metadata.name==p,metadata.namespace=ns").matches(pod));
  EXPECT_FALSE(FieldSelector::parse("metadata.name!=p").matches(pod));
  EXPECT_TRUE(FieldSelector::parse("spec.nodeName=n1,status.phase!=Pending").matches(pod));
  EXPECT_THROW(FieldSelector::parse("spec.replicas=1"), ApiError);
  nlohmann::json event = {{"involvedObject", {{"name", "p"}, {"kind", "Pod"}}},
                          {"reason", "Started"}};
  EXPECT_TRUE(FieldSelector::parse("involvedObject.name=p,involvedObject.kind=Pod,reason=Started")
                  .matches(event));
  EXPECT_FALSE(FieldSelector::parse("involvedObject.uid=u").matches(event));
  EXPECT_THROW(FieldSelector::parse("metadata.name"), ApiError);
}

}  // namespace
}  // namespace llmops::devcluster
