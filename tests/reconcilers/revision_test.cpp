#include "llmops/reconcilers/revision.h"

#include <gtest/gtest.h>

namespace llmops::reconcilers {
namespace {

using nlohmann::json;

TEST(Revision, HashIsCanonicalAndNumbersNeverGoBack) {
  const json model = {{"uri", "file:///a"}, {"name", "m"}};
  const json reordered = json::parse(R"({"name":"m","uri":"file:///a"})");
  EXPECT_EQ(revision_hash(model, json::object()), revision_hash(reordered, json::object()));
  EXPECT_NE(revision_hash(model, json::object()), revision_hash(model, {{"threads", 1}}));
  EXPECT_EQ(revision_hash(model, json::object()).size(), 16u);

  RolloutStatus status;
  const TimePoint now{};
  for (int i = 0; i < 6; ++i) add_revision(status, "h" + std::to_string(i), model, {}, now);
  status.stable_revision = 2;
  prune_revisions(status, 1, {2});
  std::vector<int64_t> left;
  for (const auto& r : status.revisions) left.push_back(r.revision);
  EXPECT_EQ(left, (std::vector<int64_t>{2, 5, 6})) << "stable, newest, and one more";
  EXPECT_EQ(add_revision(status, "h9", model, {}, now), 7);
  prune_revisions(status, 0, {2});
  EXPECT_EQ(status.revisions.back().revision, 7);
  EXPECT_EQ(add_revision(status, "h10", model, {}, now), 8);
}

}  // namespace
}  // namespace llmops::reconcilers
