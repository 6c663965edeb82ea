#include "router/endpoint_balancer.h"

#include <gtest/gtest.h>

#include <map>

namespace llmops::router {
namespace {

struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  EndpointBalancer::Clock fn() {
    return [this] { return now; };
  }
};

std::vector<Endpoint> endpoints(int n) {
  std::vector<Endpoint> result;
  for (int i = 0; i < n; ++i) result.push_back({"10.0.0." + std::to_string(i + 1), 8080, "", true});
  return result;
}

TEST(EndpointBalancer, PrefersFewestOutstandingThenShortestQueue) {
  FakeClock clock;
  EndpointBalancer balancer({}, clock.fn());
  auto pods = endpoints(3);
  balancer.request_started(pods[0].address());
  balancer.request_started(pods[0].address());
  balancer.request_started(pods[1].address());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(balancer.pick(pods, {}, false)->host, pods[2].host);
  balancer.request_started(pods[2].address());
  // 1 and 2 tie on outstanding; 2 reported a longer queue.
  balancer.report_success(pods[1].address(), 0);
  balancer.report_success(pods[2].address(), 5);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(balancer.pick(pods, {}, false)->host, pods[1].host);
  balancer.request_finished(pods[0].address());
  balancer.request_finished(pods[0].address());
  EXPECT_EQ(balancer.pick(pods, {}, false)->host, pods[0].host);
}

TEST(EndpointBalancer, ExactTiesRotate) {
  EndpointBalancer balancer;
  auto pods = endpoints(3);
  std::map<std::string, int> counts;
  for (int i = 0; i < 30; ++i) counts[balancer.pick(pods, {}, false)->host]++;
  for (const auto& pod : pods) EXPECT_EQ(counts[pod.host], 10);
}

TEST(EndpointBalancer, SkipsNotReadyAndExcluded) {
  EndpointBalancer balancer;
  auto pods = endpoints(3);
  pods[0].ready = false;
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(balancer.pick(pods, {pods[1].address()}, false)->host, pods[2].host);
  }
  EXPECT_FALSE(balancer.pick(pods, {pods[1].address(), pods[2].address()}, true));
  EXPECT_FALSE(balancer.has_usable(pods, {pods[1].address(), pods[2].address()}));
}

TEST(EndpointBalancer, EjectsAfterConsecutiveFailuresAndReadmitsAfterCoolOff) {
  FakeClock clock;
  EjectionPolicy policy;
  policy.consecutive_failures = 3;
  policy.base_ejection = std::chrono::seconds(5);
  policy.max_ejection = std::chrono::seconds(12);
  EndpointBalancer balancer(policy, clock.fn());
  auto pods = endpoints(2);
  const auto bad = pods[0].address();
  EXPECT_FALSE(balancer.report_failure(bad));
  EXPECT_FALSE(balancer.report_failure(bad));
  balancer.report_success(bad, std::nullopt);  // streak broken
  EXPECT_FALSE(balancer.report_failure(bad));
  EXPECT_FALSE(balancer.report_failure(bad));
  EXPECT_TRUE(balancer.report_failure(bad));
  EXPECT_TRUE(balancer.ejected(bad));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(balancer.pick(pods, {}, false)->host, pods[1].host);
  // Only ejected pods left: still usable when the caller allows it.
  EXPECT_FALSE(balancer.pick({pods[0]}, {}, false));
  EXPECT_EQ(balancer.pick({pods[0]}, {}, true)->host, pods[0].host);
  clock.now += std::chrono::seconds(5);
  EXPECT_FALSE(balancer.ejected(bad));
  // Ejected again: twice as long (capped at max).
  for (int i = 0; i < 3; ++i) balancer.report_failure(bad);
  clock.now += std::chrono::seconds(9);
  EXPECT_TRUE(balancer.ejected(bad));
  clock.now += std::chrono::seconds(1);
  EXPECT_FALSE(balancer.ejected(bad));
  for (int i = 0; i < 3; ++i) balancer.report_failure(bad);
  clock.now += std::chrono::seconds(11);
  EXPECT_TRUE(balancer.ejected(bad));
  clock.now += std::chrono::seconds(1);
  EXPECT_FALSE(balancer.ejected(bad));
}

TEST(EndpointBalancer, RetainKeepsBusyEndpoints) {
  EndpointBalancer balancer;
  balancer.request_started("10.0.0.1:80");
  balancer.report_success("10.0.0.2:80", 3);
  balancer.retain({});
  EXPECT_EQ(balancer.outstanding("10.0.0.1:80"), 1);
  balancer.request_finished("10.0.0.1:80");
  balancer.retain({});
  EXPECT_EQ(balancer.outstanding("10.0.0.1:80"), 0);
}

}  // namespace
}  // namespace llmops::router
