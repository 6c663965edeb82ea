#include "router/traffic_split.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace llmops::router {
namespace {

const TrafficSplit::Eligible kAll = [](int) { return true; };

std::map<int, int> count(TrafficSplit& split, int requests,
                         const TrafficSplit::Eligible& eligible = kAll) {
  std::map<int, int> counts;
  for (int i = 0; i < requests; ++i) {
    auto revision = split.next(eligible);
    counts[revision ? *revision : -1]++;
  }
  return counts;
}

TEST(TrafficSplit, ExactOverEveryWindowOfTheWeightSum) {
  struct Case {
    std::vector<std::pair<int, int>> weights;
  };
  for (const auto& c : std::vector<Case>{{{{1, 90}, {2, 10}}},
                                         {{{1, 50}, {2, 50}}},
                                         {{{3, 1}, {4, 2}, {5, 7}}},
                                         {{{1, 100}}},
                                         {{{1, 33}, {2, 67}}}}) {
    TrafficSplit split;
    split.set_weights(c.weights);
    int total = 0;
    for (auto [r, w] : c.weights) total += w;
    for (int window = 0; window < 5; ++window) {
      auto counts = count(split, total);
      for (auto [revision, weight] : c.weights) {
        EXPECT_EQ(counts[revision], weight) << "revision " << revision << " window " << window;
      }
    }
  }
}

TEST(TrafficSplit, SpreadsTheMinorityEvenly) {
  // 90/10: the canary's requests are one in every ten, not ten in a row.
  TrafficSplit split;
  split.set_weights({{1, 90}, {2, 10}});
  int last = -100;
  for (int i = 0; i < 200; ++i) {
    if (split.next(kAll) == 2) {
      if (last >= 0) EXPECT_EQ(i - last, 10);
      last = i;
    }
  }
}

TEST(TrafficSplit, ZeroWeightAndIneligibleRevisionsGetNothing) {
  TrafficSplit split;
  split.set_weights({{1, 0}, {2, 100}, {3, 50}});
  auto counts = count(split, 300, [](int r) { return r != 3; });
  EXPECT_EQ(counts[2], 300);
  EXPECT_EQ(counts[1], 0);
  EXPECT_EQ(counts[3], 0);
  split.set_weights({{1, 0}});
  EXPECT_FALSE(split.next(kAll));
  split.set_weights({});
  EXPECT_FALSE(split.next(kAll));
}

TEST(TrafficSplit, SessionsStickAndMoveOnlyForwardWhenTheCanaryGrows) {
  TrafficSplit split;
  split.set_weights({{1, 90}, {2, 10}});
  std::map<std::string, int> first;
  int canary = 0;
  for (int s = 0; s < 2000; ++s) {
    const std::string session = "session-" + std::to_string(s);
    first[session] = *split.for_session(session, kAll);
    for (int again = 0; again < 3; ++again)
      EXPECT_EQ(split.for_session(session, kAll), first[session]);
    canary += first[session] == 2;
  }
  EXPECT_NEAR(canary / 2000.0, 0.10, 0.03);
  split.set_weights({{1, 50}, {2, 50}});
  int moved_back = 0;
  for (const auto& [session, revision] : first) {
    if (revision == 2 && split.for_session(session, kAll) == 1) ++moved_back;
  }
  EXPECT_EQ(moved_back, 0);
}

TEST(TrafficSplit, SessionOfAnIneligibleRevisionFallsBackToRoundRobin) {
  TrafficSplit split;
  split.set_weights({{1, 50}, {2, 50}});
  for (int s = 0; s < 100; ++s) {
    EXPECT_EQ(split.for_session("s" + std::to_string(s), [](int r) { return r == 1; }), 1);
  }
}

TEST(TrafficSplit, SessionPointIsStableAndSpread) {
  EXPECT_EQ(TrafficSplit::session_point("abc"), TrafficSplit::session_point("abc"));
  int low = 0;
  for (int i = 0; i < 10000; ++i) {
    const double p = TrafficSplit::session_point("user" + std::to_string(i));
    ASSERT_GE(p, 0.0);
    ASSERT_LT(p, 1.0);
    low += p < 0.5;
  }
  EXPECT_NEAR(low / 10000.0, 0.5, 0.02);
}

}  // namespace
}  // namespace llmops::router
