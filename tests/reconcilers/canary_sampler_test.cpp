// The operator's canary sampler (operator/llmdeployment/canary_sampler.cpp) with a fake
// fetcher: a baseline first, a measurement once due, and nothing remembered that a
// restart could not rebuild (a new sampler starts with a baseline again).
#include "llmdeployment/canary_sampler.h"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>

namespace llmops::operator_main {
namespace {

using namespace std::chrono_literals;

class FakeFetcher : public MetricsFetcher {
 public:
  std::map<std::string, std::string> bodies;  // absent: the URL does not answer
  std::vector<std::string> asked;
  std::string get(const std::string& url) override {
    asked.push_back(url);
    auto it = bodies.find(url);
    if (it == bodies.end()) throw std::runtime_error(url + ": connection refused");
    return it->second;
  }
};

std::string runtime_body(int ok, int errors) {
  return "llmops_runtime_requests_total{code=\"200\",model=\"m\"} " + std::to_string(ok) +
         "\nllmops_runtime_requests_total{code=\"503\",model=\"m\"} " + std::to_string(errors) +
         "\n";
}

std::string router_body(int ok, int errors) {
  return "llmops_router_upstream_requests_total{deployment=\"story\",revision=\"2\",outcome="
         "\"success\"} " +
         std::to_string(ok) +
         "\nllmops_router_upstream_requests_total{deployment=\"story\",revision=\"2\",outcome="
         "\"error\"} " +
         std::to_string(errors) + "\n";
}

const CanaryTarget kTarget{
    "default/story", "default", "story", 2, {{"story-r2-0", "http://10.0.0.1:8080/metrics"}}};
const std::string kRouter = "http://router:9090/metrics";

TEST(CanarySampler, BaselineThenMeasurementFromDeltas) {
  auto fetcher = std::make_shared<FakeFetcher>();
  fetcher->bodies["http://10.0.0.1:8080/metrics"] = runtime_body(100, 100);
  fetcher->bodies[kRouter] = router_body(100, 0);
  CanarySampler sampler(fetcher, {kRouter});
  const TimePoint t0{std::chrono::seconds(5000)};

  auto first = sampler.take(kTarget, t0 + 10s, Seconds(10), t0);
  EXPECT_FALSE(first.measurement.has_value()) << "a baseline first";
  ASSERT_TRUE(first.wait.has_value());
  EXPECT_DOUBLE_EQ(first.wait->count(), 10.0);
  EXPECT_EQ(fetcher->asked.size(), 2u);

  auto early = sampler.take(kTarget, t0 + 10s, Seconds(10), t0 + 5s);
  EXPECT_FALSE(early.measurement.has_value());
  EXPECT_EQ(fetcher->asked.size(), 2u) << "no scrape before the sample is due";

  fetcher->bodies["http://10.0.0.1:8080/metrics"] = runtime_body(109, 101);  // 10%
  fetcher->bodies[kRouter] = router_body(107, 3);                            // 30%
  auto due = sampler.take(kTarget, t0 + 10s, Seconds(10), t0 + 10s);
  ASSERT_TRUE(due.measurement.has_value());
  EXPECT_NEAR(*due.measurement->values.at("error-rate"), 0.3, 1e-9);
  ASSERT_TRUE(due.scrape.has_value());
  sampler.commit(kTarget, *due.scrape);

  // Nothing new in the next interval: no data, and the router not answering is no error.
  fetcher->bodies.erase(kRouter);
  auto quiet = sampler.take(kTarget, t0 + 20s, Seconds(10), t0 + 20s);
  ASSERT_TRUE(quiet.measurement.has_value());
  EXPECT_FALSE(quiet.measurement->values.at("error-rate").has_value());
}

TEST(CanarySampler, ARestartedOperatorTakesANewBaseline) {
  auto fetcher = std::make_shared<FakeFetcher>();
  fetcher->bodies["http://10.0.0.1:8080/metrics"] = runtime_body(1000, 900);
  CanarySampler restarted(fetcher, {});
  const TimePoint t0{std::chrono::seconds(5000)};
  // The sample was due long ago (per the status), but the lifetime counters (90% errors,
  // mostly before this analysis) must not be judged as one interval.
  auto first = restarted.take(kTarget, t0 - 30s, Seconds(10), t0);
  EXPECT_FALSE(first.measurement.has_value());
  ASSERT_TRUE(first.wait.has_value());
  EXPECT_DOUBLE_EQ(first.wait->count(), 10.0);
  fetcher->bodies["http://10.0.0.1:8080/metrics"] = runtime_body(1010, 900);
  auto next = restarted.take(kTarget, t0 - 30s, Seconds(10), t0 + 10s);
  ASSERT_TRUE(next.measurement.has_value());
  EXPECT_NEAR(*next.measurement->values.at("error-rate"), 0.0, 1e-9);
}

TEST(CanarySampler, ANewCanaryRevisionStartsOver) {
  auto fetcher = std::make_shared<FakeFetcher>();
  fetcher->bodies["http://10.0.0.1:8080/metrics"] = runtime_body(10, 0);
  CanarySampler sampler(fetcher, {});
  const TimePoint t0{std::chrono::seconds(5000)};
  sampler.take(kTarget, t0 + 10s, Seconds(10), t0);
  CanaryTarget other = kTarget;
  other.revision = 3;
  auto taken = sampler.take(other, t0 + 10s, Seconds(10), t0 + 10s);
  EXPECT_FALSE(taken.measurement.has_value()) << "revision 2's baseline is not revision 3's";
}

}  // namespace
}  // namespace llmops::operator_main
