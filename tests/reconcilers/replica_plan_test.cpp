#include "llmops/reconcilers/replica_plan.h"

#include <gtest/gtest.h>

namespace llmops::reconcilers {
namespace {

ObservedPod pod(const std::string& name, int64_t revision, bool ready,
                const std::string& phase = "Running", bool deleting = false) {
  ObservedPod p;
  p.name = name;
  p.revision = revision;
  p.ready = ready;
  p.phase = phase;
  p.deleting = deleting;
  return p;
}

TEST(ReplicaPlan, CreatesMissingRemovesExtraAndReplacesFailed) {
  const std::vector<ObservedPod> pods = {
      pod("story-r1-0", 1, true),
      pod("story-r1-1", 1, false, "Failed"),
      pod("story-r1-2", 1, false, "Running", true),  // terminating: its name stays taken
      pod("story-r2-0", 2, false),
      pod("story-r2-1", 2, true),
      pod("story-r2-2", 2, true),
  };
  const ReplicaPlan plan = plan_replicas("story", {{1, 3}, {2, 1}}, pods);
  EXPECT_EQ(plan.create, (std::vector<std::pair<int64_t, int>>{{1, 3}, {1, 4}}));
  EXPECT_EQ(plan.remove, (std::vector<std::string>{"story-r1-1", "story-r2-2", "story-r2-0"}))
      << "failed replaced; not-ready and high indexes removed first";
  EXPECT_EQ(ready_count(pods, 2), 2);
  EXPECT_EQ(live_count(pods, 1), 1);
}

}  // namespace
}  // namespace llmops::reconcilers
