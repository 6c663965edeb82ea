#include "llmops/kube/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "fake_transport.h"

namespace llmops::kube {
namespace {

using namespace std::chrono_literals;

TEST(WorkQueue, AddingAQueuedKeyAgainIsOneItem) {
  WorkQueue queue;
  queue.add("ns/a");
  queue.add("ns/b");
  queue.add("ns/a");
  EXPECT_EQ(queue.len(), 2u);
  EXPECT_EQ(queue.get(), "ns/a");
  EXPECT_EQ(queue.get(), "ns/b");
  EXPECT_EQ(queue.len(), 0u);
}

TEST(WorkQueue, KeyAddedWhileProcessingRunsAgainAfterDone) {
  WorkQueue queue;
  queue.add("k");
  ASSERT_EQ(queue.get(), "k");
  queue.add("k");  // an event during the reconcile
  queue.add("k");
  EXPECT_EQ(queue.len(), 0u) << "not handed out while processing";
  queue.done("k");
  EXPECT_EQ(queue.len(), 1u);
  EXPECT_EQ(queue.get(), "k");
  queue.done("k");
  EXPECT_EQ(queue.len(), 0u);
}

TEST(WorkQueue, NeverProcessesOneKeyConcurrently) {
  WorkQueue queue;
  std::map<std::string, std::atomic<int>> in_flight;
  const std::vector<std::string> keys = {"a", "b", "c"};
  for (const auto& key : keys) in_flight[key] = 0;
  std::atomic<int> overlaps{0};
  std::atomic<int> processed{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 6; ++i) {
    workers.emplace_back([&] {
      while (auto key = queue.get()) {
        if (in_flight[*key].fetch_add(1) != 0) ++overlaps;
        std::this_thread::sleep_for(100us);
        in_flight[*key].fetch_sub(1);
        ++processed;
        queue.done(*key);
      }
    });
  }
  for (int round = 0; round < 2000; ++round) queue.add(keys[round % keys.size()]);
  while (queue.len() > 0) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(20ms);
  queue.shut_down();
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_GE(processed.load(), 3);
  EXPECT_LT(processed.load(), 2000) << "duplicates collapse";
}

TEST(WorkQueue, AddAfterWaitsAndKeepsTheEarliestTime) {
  WorkQueue queue;
  queue.add_after("late", 10min);
  queue.add_after("soon", 30ms);
  queue.add_after("late", 20ms);  // moves it earlier
  EXPECT_EQ(queue.len(), 0u);
  EXPECT_EQ(queue.delayed(), 2u);
  std::set<std::string> got;
  got.insert(*queue.get());
  got.insert(*queue.get());
  EXPECT_EQ(got, (std::set<std::string>{"late", "soon"}));
}

TEST(WorkQueue, ShutDownWakesGetters) {
  WorkQueue queue;
  std::thread waiter([&] { EXPECT_EQ(queue.get(), std::nullopt); });
  std::this_thread::sleep_for(10ms);
  queue.shut_down();
  waiter.join();
  queue.add("ignored");
  EXPECT_EQ(queue.len(), 0u);
}

TEST(WorkQueue, RateLimitedAddsCountRequeuesAndForgetResets) {
  WorkQueue queue;
  queue.add_rate_limited("k");
  queue.add_rate_limited("k");
  EXPECT_EQ(queue.num_requeues("k"), 2);
  queue.forget("k");
  EXPECT_EQ(queue.num_requeues("k"), 0);
}

TEST(ItemExponentialBackoff, DoublesFromFiveMillisecondsToTheCap) {
  ItemExponentialBackoff backoff;  // 5 ms → 1000 s
  EXPECT_EQ(backoff.when("k"), 5ms);
  EXPECT_EQ(backoff.when("k"), 10ms);
  EXPECT_EQ(backoff.when("k"), 20ms);
  EXPECT_EQ(backoff.when("k"), 40ms);
  EXPECT_EQ(backoff.when("other"), 5ms) << "per key";
  for (int i = 0; i < 100; ++i) backoff.when("k");
  EXPECT_EQ(backoff.when("k"), std::chrono::seconds(1000));
  EXPECT_EQ(backoff.failures("k"), 105);
  backoff.forget("k");
  EXPECT_EQ(backoff.when("k"), 5ms) << "reset by forget";
}

TEST(TokenBucket, BurstThenQps) {
  auto clock = std::make_shared<testing::ManualClock>();
  TokenBucket bucket(10, 100, clock);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(bucket.reserve(), 0ns) << i;
  EXPECT_EQ(bucket.reserve(), 100ms);  // one token owed at 10 qps
  EXPECT_EQ(bucket.reserve(), 200ms);
  clock->advance(1s);  // 10 tokens back, 2 were owed
  for (int i = 0; i < 8; ++i) EXPECT_EQ(bucket.reserve(), 0ns) << i;
  EXPECT_EQ(bucket.reserve(), 100ms);
}

TEST(ControllerRateLimiter, LongerOfBackoffAndBucket) {
  auto clock = std::make_shared<testing::ManualClock>();
  ControllerRateLimiter limiter({}, clock);
  EXPECT_EQ(limiter.when("k"), 5ms);
  for (int i = 0; i < 200; ++i) limiter.when("x" + std::to_string(i));
  // The bucket is now 100 tokens in debt (10 s) and k's backoff is 10 ms.
  auto delay = limiter.when("k");
  EXPECT_GT(delay, 10s);
}

}  // namespace
}  // namespace llmops::kube
