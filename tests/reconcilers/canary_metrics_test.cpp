#include "llmops/reconcilers/canary_metrics.h"

#include <gtest/gtest.h>

#include "llmops/reconcilers/canary_analysis.h"

namespace llmops::reconcilers {
namespace {

using namespace std::chrono_literals;

// The runtime's /metrics text for given totals; the ttft histogram puts `fast` requests
// at <= 0.1 s and `slow` ones in (0.5, 1].
std::string runtime_text(int ok, int errors, int fast, int slow, int tokens) {
  std::string text;
  text += "llmops_runtime_requests_total{code=\"200\",model=\"m\"} " + std::to_string(ok) + "\n";
  text += "llmops_runtime_requests_total{code=\"429\",model=\"m\"} 1\n";
  text +=
      "llmops_runtime_requests_total{code=\"500\",model=\"m\"} " + std::to_string(errors) + "\n";
  text += "llmops_runtime_time_to_first_token_seconds_bucket{model=\"m\",le=\"0.1\"} " +
          std::to_string(fast) + "\n";
  text += "llmops_runtime_time_to_first_token_seconds_bucket{model=\"m\",le=\"0.5\"} " +
          std::to_string(fast) + "\n";
  text += "llmops_runtime_time_to_first_token_seconds_bucket{model=\"m\",le=\"1\"} " +
          std::to_string(fast + slow) + "\n";
  text += "llmops_runtime_time_to_first_token_seconds_bucket{model=\"m\",le=\"+Inf\"} " +
          std::to_string(fast + slow) + "\n";
  text += "llmops_runtime_generated_tokens_total{model=\"m\"} " + std::to_string(tokens) + "\n";
  return text;
}

TEST(CanaryMetrics, HistogramQuantileInterpolatesInsideTheBucket) {
  Histogram histogram;
  histogram.buckets = {{0.1, 50}, {0.5, 90}, {1.0, 100}, {INFINITY, 100}};
  EXPECT_NEAR(*histogram_quantile(0.5, histogram), 0.1, 1e-9);
  EXPECT_NEAR(*histogram_quantile(0.95, histogram), 0.75, 1e-9);  // halfway through (0.5, 1]
  histogram.buckets = {{0.1, 0}, {INFINITY, 10}};
  EXPECT_NEAR(*histogram_quantile(0.95, histogram), 0.1, 1e-9) << "beyond the last bound";
  EXPECT_FALSE(histogram_quantile(0.95, Histogram{}).has_value());
  histogram.buckets = {{0.1, 0}, {INFINITY, 0}};
  EXPECT_FALSE(histogram_quantile(0.95, histogram).has_value());
}

TEST(CanaryMetrics, MeasuresTheIntervalFromDeltas) {
  const TimePoint t0{std::chrono::seconds(1000)};
  Scrape before{t0, {}, {}};
  before.pods["p0"] = runtime_counters(parse_prometheus_text(runtime_text(100, 50, 150, 0, 1000)));
  Scrape after{t0 + 10s, {}, {}};
  // 10 new requests: 8 ok, 2 errors (+ the unchanged 429); 2 fast, 8 slow; 200 tokens.
  after.pods["p0"] = runtime_counters(parse_prometheus_text(runtime_text(108, 52, 152, 8, 1200)));
  const Measurement m = measure_interval(before, after);
  EXPECT_NEAR(*m.values.at(kErrorRate), 0.2, 1e-9) << "old errors do not count";
  EXPECT_GT(*m.values.at(kTtftP95), 0.5);
  EXPECT_LE(*m.values.at(kTtftP95), 1.0);
  EXPECT_NEAR(*m.values.at(kTokensPerSecond), 20.0, 1e-9);
  EXPECT_FALSE(m.values.at(kItlP95).has_value()) << "no itl observations";
}

TEST(CanaryMetrics, NoRequestsIsNoData) {
  const TimePoint t0{std::chrono::seconds(1000)};
  Scrape before{t0, {}, {}};
  before.pods["p0"] = runtime_counters(parse_prometheus_text(runtime_text(5, 5, 10, 0, 100)));
  Scrape after = before;
  after.time = t0 + 10s;
  const Measurement m = measure_interval(before, after);
  for (const auto& [name, value] : m.values) EXPECT_FALSE(value.has_value()) << name;
  AnalysisConfig config;
  config.metrics = {{kErrorRate, 0.01, std::nullopt}};
  EXPECT_EQ(judge_sample(m, config).verdict, Verdict::kInconclusive);
  config.no_data = NoDataPolicy::kFail;
  EXPECT_EQ(judge_sample(m, config).verdict, Verdict::kFail);
  config.no_data = NoDataPolicy::kPass;
  const SampleJudgement pass = judge_sample(m, config);
  EXPECT_EQ(pass.verdict, Verdict::kPass);
  EXPECT_NE(pass.summary.find("no data"), std::string::npos) << pass.summary;
}

TEST(CanaryMetrics, NewAndRestartedPodsCountFromZero) {
  const TimePoint t0{std::chrono::seconds(1000)};
  Scrape before{t0, {}, {}};
  before.pods["restarted"] =
      runtime_counters(parse_prometheus_text(runtime_text(500, 0, 500, 0, 9000)));
  Scrape after{t0 + 10s, {}, {}};
  after.pods["restarted"] = runtime_counters(parse_prometheus_text(runtime_text(3, 1, 4, 0, 10)));
  after.pods["new"] = runtime_counters(parse_prometheus_text(runtime_text(5, 1, 6, 0, 10)));
  const Measurement m = measure_interval(before, after);
  // restarted: 3+1+1 (429) requests, 1 error; new: 5+1+1, 1 error.
  EXPECT_NEAR(*m.values.at(kErrorRate), 2.0 / 12.0, 1e-9);
}

TEST(CanaryMetrics, RouterErrorsCountEvenWhenTheRuntimeLooksFine) {
  const auto router_text = [](int ok, int errors) {
    return "llmops_router_upstream_requests_total{deployment=\"story\",revision=\"2\","
           "outcome=\"success\"} " +
           std::to_string(ok) +
           "\n"
           "llmops_router_upstream_requests_total{deployment=\"story\",revision=\"2\","
           "outcome=\"error\"} " +
           std::to_string(errors) +
           "\n"
           "llmops_router_upstream_requests_total{deployment=\"story\",revision=\"1\","
           "outcome=\"error\"} 999\n"
           "llmops_router_upstream_requests_total{deployment=\"other\",revision=\"2\","
           "outcome=\"error\"} 999\n";
  };
  const TimePoint t0{std::chrono::seconds(1000)};
  Scrape before{t0, {}, {}};
  before.pods["p0"] = runtime_counters(parse_prometheus_text(runtime_text(10, 0, 10, 0, 100)));
  before.routers["r"] =
      router_counters(parse_prometheus_text(router_text(10, 0)), "default", "story", 2);
  Scrape after{t0 + 10s, {}, {}};
  after.pods["p0"] = runtime_counters(parse_prometheus_text(runtime_text(20, 0, 20, 0, 200)));
  after.routers["r"] =
      router_counters(parse_prometheus_text(router_text(16, 4)), "default", "story", 2);
  const Measurement m = measure_interval(before, after);
  EXPECT_NEAR(*m.values.at(kErrorRate), 0.4, 1e-9) << "the worse of runtime and router";
  const RouterCounters namespaced = router_counters(
      parse_prometheus_text(
          "llmops_router_upstream_requests_total{deployment=\"default/story\",revision=\"2\","
          "outcome=\"error\"} 3\n"),
      "default", "story", 2);
  EXPECT_EQ(namespaced.errors, 3);
}

}  // namespace
}  // namespace llmops::reconcilers
