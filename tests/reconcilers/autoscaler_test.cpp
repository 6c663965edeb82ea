// The autoscaler's decisions, tick by tick: HPA's ratio and tolerance, missing data,
// stabilization windows, rate policies, min/max, scale to zero and back, the split of a
// count between revisions during a rollout, and spec.autoscaling's validation.
#include "llmops/reconcilers/autoscaler.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace llmops::reconcilers {
namespace {

using nlohmann::json;

const TimePoint kStart = parse_timestamp("2026-12-03T10:00:00Z");

TimePoint at(double seconds) {
  return kStart + std::chrono::duration_cast<std::chrono::system_clock::duration>(Seconds(seconds));
}

AutoscalingSpec spec_of(const json& autoscaling) {
  return parse_autoscaling(autoscaling);
}

AutoscalingSpec queue_spec(int min = 1, int max = 20) {
  return spec_of({{"minReplicas", min},
                  {"maxReplicas", max},
                  {"metrics", {{{"name", "queue-depth-per-replica"}, {"target", 2}}}}});
}

// `current` pods, each waiting `waiting` requests.
AutoscaleInput load(double seconds, int current, double waiting, bool active = true) {
  AutoscaleInput input;
  input.now = at(seconds);
  input.current = current;
  input.active = active;
  for (int i = 0; i < current; ++i) {
    PodLoad pod;
    pod.waiting = waiting;
    pod.running = 1;
    pod.kv_cache_usage = 0.5;
    pod.tokens_per_second = 40;
    input.pods.push_back(pod);
  }
  return input;
}

TEST(Autoscaler, DefaultsAreHpas) {
  const AutoscalingSpec spec = queue_spec();
  EXPECT_EQ(spec.scale_up.stabilization.count(), 0);
  ASSERT_EQ(spec.scale_up.policies.size(), 2u);
  EXPECT_EQ(spec.scale_up.policies[0].type, ScalingPolicy::Type::Pods);
  EXPECT_EQ(spec.scale_up.policies[0].value, 4);
  EXPECT_EQ(spec.scale_up.policies[1].type, ScalingPolicy::Type::Percent);
  EXPECT_EQ(spec.scale_up.policies[1].value, 100);
  EXPECT_EQ(spec.scale_down.stabilization.count(), 300);
  ASSERT_EQ(spec.scale_down.policies.size(), 1u);
  EXPECT_EQ(spec.scale_down.policies[0].period.count(), 15);
  EXPECT_FALSE(spec.scale_to_zero_after);
}

TEST(Autoscaler, WithinTheToleranceNothingChanges) {
  const AutoscalingSpec spec = queue_spec();
  AutoscalerState state;
  // 2.1 waiting per pod against 2: ratio 1.05, inside the 10% tolerance.
  AutoscaleDecision d = decide_replicas(spec, state, load(0, 3, 2.1));
  EXPECT_EQ(d.desired, 3);
  EXPECT_EQ(d.reason, "");
  EXPECT_DOUBLE_EQ(d.values.at("queue-depth-per-replica"), 2.1);
  // 2.6: ratio 1.3 -> ceil(1.3 x 3) = 4.
  d = decide_replicas(spec, state, load(15, 3, 2.6));
  EXPECT_EQ(d.desired, 4);
  EXPECT_EQ(d.reason, "ScaledUp");
  EXPECT_NE(d.message.find("queue-depth-per-replica 2.6 against a target of 2"), std::string::npos)
      << d.message;
}

TEST(Autoscaler, ScaleUpIsLimitedByThePoliciesPerPeriod) {
  const AutoscalingSpec spec = queue_spec(1, 50);
  AutoscalerState state;
  // 2 pods with 20 waiting each: ratio 10 -> 20 wanted; max(2 + 4 pods, 2 x 200%) = 6.
  AutoscaleDecision d = decide_replicas(spec, state, load(0, 2, 20));
  EXPECT_EQ(d.desired, 6);
  EXPECT_NE(d.message.find("recommended 20, limited by the scale-up policy"), std::string::npos)
      << d.message;
  // 5 s later, still within the 15 s period of that change: no further step.
  d = decide_replicas(spec, state, load(5, 6, 20));
  EXPECT_EQ(d.desired, 6);
  // After the period: from 6, max(6 + 4, 12) = 12.
  d = decide_replicas(spec, state, load(16, 6, 20));
  EXPECT_EQ(d.desired, 12);
  // maxReplicas bounds it.
  d = decide_replicas(spec, state, load(32, 12, 20));
  EXPECT_EQ(d.desired, 24);
  d = decide_replicas(spec, state, load(48, 24, 200));
  EXPECT_EQ(d.desired, 48);
  d = decide_replicas(spec, state, load(64, 48, 200));
  EXPECT_EQ(d.desired, 50);
  EXPECT_NE(d.message.find("limited by maxReplicas"), std::string::npos) << d.message;
}

TEST(Autoscaler, ScaleDownWaitsForTheStabilizationWindow) {
  const AutoscalingSpec spec = queue_spec();
  AutoscalerState state;
  // 6 pods, the queues empty: recommendation 1, but the window (300 s) holds the highest
  // recommendation seen, starting with the count at hand.
  for (int t = 0; t < 300; t += 15) {
    const AutoscaleDecision d = decide_replicas(spec, state, load(t, 6, 0));
    EXPECT_EQ(d.desired, 6) << "at " << t << " s";
  }
  const AutoscaleDecision d = decide_replicas(spec, state, load(300, 6, 0));
  EXPECT_EQ(d.desired, 1);
  EXPECT_EQ(d.reason, "ScaledDown");
}

TEST(Autoscaler, AShortDipInsideTheWindowDoesNotScaleDown) {
  const AutoscalingSpec spec = queue_spec();
  AutoscalerState state;
  EXPECT_EQ(decide_replicas(spec, state, load(0, 4, 2)).desired, 4);
  for (int t = 15; t < 300; t += 15)
    EXPECT_EQ(decide_replicas(spec, state, load(t, 4, 0)).desired, 4);
  // Back to load at 285 s: the recommendation of 4 at 0 s has left the window by 300 s,
  // but the one of 285 s keeps the count.
  EXPECT_EQ(decide_replicas(spec, state, load(285, 4, 2)).desired, 4);
  EXPECT_EQ(decide_replicas(spec, state, load(310, 4, 0)).desired, 4);
}

TEST(Autoscaler, ScaleDownPolicyLimitsTheStep) {
  const AutoscalingSpec spec = spec_of(json::parse(R"({
    "maxReplicas": 20,
    "metrics": [{"name": "in-flight-per-replica", "target": 4}],
    "behavior": {"scaleDown": {"stabilizationWindowSeconds": 0,
                               "policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}]}}
  })"));
  AutoscalerState state;
  // 10 pods, 0 waiting and 1 running each: in-flight 1 against 4 -> ceil(2.5) = 3 wanted;
  // at most 2 pods per 60 s.
  EXPECT_EQ(decide_replicas(spec, state, load(0, 10, 0)).desired, 8);
  EXPECT_EQ(decide_replicas(spec, state, load(30, 8, 0)).desired, 8);
  EXPECT_EQ(decide_replicas(spec, state, load(61, 8, 0)).desired, 6);
}

TEST(Autoscaler, DisabledDirectionNeverMoves) {
  AutoscalingSpec spec = spec_of({{"maxReplicas", 20},
                                  {"metrics", {{{"name", "kv-cache-usage"}, {"target", 0.8}}}},
                                  {"behavior", {{"scaleDown", {{"selectPolicy", "Disabled"}}}}}});
  AutoscalerState state;
  AutoscaleInput input = load(0, 5, 0);
  for (auto& pod : input.pods) pod.kv_cache_usage = 0.1;
  EXPECT_EQ(decide_replicas(spec, state, input).desired, 5);
  input.now = at(1000);
  EXPECT_EQ(decide_replicas(spec, state, input).desired, 5);
  for (auto& pod : input.pods) pod.kv_cache_usage = 1.0;  // up still works
  input.now = at(1015);
  EXPECT_EQ(decide_replicas(spec, state, input).desired, 7);
}

TEST(Autoscaler, SilentPodsAreNoDataNotZeroLoad) {
  const AutoscalingSpec spec =
      spec_of({{"maxReplicas", 20},
               {"metrics", {{{"name", "queue-depth-per-replica"}, {"target", 2}}}},
               {"behavior", {{"scaleDown", {{"stabilizationWindowSeconds", 0}}}}}});
  AutoscalerState state;
  // No pod can be scraped: no change, whatever the window.
  AutoscaleInput input = load(0, 4, 0);
  for (auto& pod : input.pods) pod = PodLoad{};
  EXPECT_EQ(decide_replicas(spec, state, input).desired, 4);
  EXPECT_TRUE(decide_replicas(spec, state, input).values.empty());
  // One of four reports 0 waiting, three are silent: they count at the target, so the
  // ratio is 0.75 -> 3, not 0 -> 1.
  input = load(15, 4, 0);
  for (int i = 1; i < 4; ++i) input.pods[i] = PodLoad{};
  EXPECT_EQ(decide_replicas(spec, state, input).desired, 3);
  // One reports 10 waiting, one silent: (10 + 2) / (2 x 2) = 3 -> 6 pods.
  input = load(30, 2, 10);
  input.pods[1] = PodLoad{};
  EXPECT_EQ(decide_replicas(spec, state, input).desired, 6);
}

TEST(Autoscaler, TheLargestMetricWins) {
  const AutoscalingSpec spec =
      spec_of({{"maxReplicas", 20},
               {"metrics",
                {{{"name", "queue-depth-per-replica"}, {"target", 10}},
                 {{"name", "tokens-per-second-per-replica"}, {"target", 20}}}}});
  AutoscalerState state;
  // Queues are short (1 of 10: wants fewer) but each pod makes 40 tok/s against 20: 2x.
  const AutoscaleDecision d = decide_replicas(spec, state, load(0, 2, 1));
  EXPECT_EQ(d.desired, 4);
  EXPECT_NE(d.message.find("tokens-per-second-per-replica"), std::string::npos) << d.message;
  EXPECT_DOUBLE_EQ(d.values.at("tokens-per-second-per-replica"), 40);
}

TEST(Autoscaler, MinAndMaxBoundTheCount) {
  AutoscalerState state;
  const AutoscalingSpec spec = queue_spec(3, 5);
  AutoscaleDecision d = decide_replicas(spec, state, load(0, 1, 0));
  EXPECT_EQ(d.desired, 3);
  EXPECT_EQ(d.reason, "BelowMinimum");
  d = decide_replicas(spec, state, load(15, 9, 0));
  EXPECT_EQ(d.desired, 5);
  EXPECT_EQ(d.reason, "AboveMaximum");
  // minReplicas 0 without scaleToZeroAfter: metrics never take it below 1.
  AutoscalerState fresh;
  const AutoscalingSpec zero =
      spec_of({{"minReplicas", 0},
               {"maxReplicas", 5},
               {"metrics", {{{"name", "queue-depth-per-replica"}, {"target", 2}}}},
               {"behavior", {{"scaleDown", {{"stabilizationWindowSeconds", 0}}}}}});
  EXPECT_EQ(decide_replicas(zero, fresh, load(0, 3, 0, false)).desired, 1);
  EXPECT_EQ(decide_replicas(zero, fresh, load(9999, 1, 0, false)).desired, 1);
}

TEST(Autoscaler, ScalesToZeroWhenIdleAndBackOnTheFirstWaitingRequest) {
  const AutoscalingSpec spec =
      spec_of({{"minReplicas", 0},
               {"maxReplicas", 4},
               {"metrics", {{{"name", "in-flight-per-replica"}, {"target", 4}}}},
               {"scaleToZeroAfter", "60s"}});
  AutoscalerState state;
  EXPECT_EQ(decide_replicas(spec, state, load(0, 2, 0, true)).desired, 2);
  // Idle from 0 s: the scale-down window (300 s) holds 2, the idle timer takes it to 0 at 60 s.
  EXPECT_EQ(decide_replicas(spec, state, load(30, 2, 0, false)).desired, 2);
  EXPECT_EQ(decide_replicas(spec, state, load(59, 2, 0, false)).desired, 2);
  AutoscaleDecision d = decide_replicas(spec, state, load(60, 2, 0, false));
  EXPECT_EQ(d.desired, 0);
  EXPECT_EQ(d.reason, "ScaledToZero");
  // At zero: stays there without requests.
  AutoscaleInput input;
  input.now = at(120);
  input.current = 0;
  d = decide_replicas(spec, state, input);
  EXPECT_EQ(d.desired, 0);
  EXPECT_EQ(d.reason, "");
  // A request held by a router: back to max(1, minReplicas).
  input.now = at(121);
  input.router_waiting = 1;
  d = decide_replicas(spec, state, input);
  EXPECT_EQ(d.desired, 1);
  EXPECT_EQ(d.reason, "ScaledFromZero");
  // The idle timer starts again from that request.
  EXPECT_EQ(decide_replicas(spec, state, load(150, 1, 0, false)).desired, 1);
  EXPECT_EQ(decide_replicas(spec, state, load(181, 1, 0, false)).desired, 0);
}

TEST(Autoscaler, SplitsACountByTrafficWeight) {
  EXPECT_EQ(split_by_weight(5, {{1, 80}, {2, 20}}), (std::map<int64_t, int>{{1, 4}, {2, 1}}));
  EXPECT_EQ(split_by_weight(10, {{1, 50}, {2, 50}}), (std::map<int64_t, int>{{1, 5}, {2, 5}}));
  // Each revision with traffic keeps at least one pod; the total may exceed by rounding up.
  EXPECT_EQ(split_by_weight(1, {{1, 90}, {2, 10}}), (std::map<int64_t, int>{{1, 1}, {2, 1}}));
  EXPECT_EQ(split_by_weight(3, {{1, 100}, {2, 0}}), (std::map<int64_t, int>{{1, 3}, {2, 0}}));
  EXPECT_EQ(split_by_weight(0, {{1, 100}}), (std::map<int64_t, int>{{1, 0}}));
}

TEST(Autoscaler, BadSpecsNameTheField) {
  const auto message = [](const json& autoscaling) {
    try {
      parse_autoscaling(autoscaling);
    } catch (const std::invalid_argument& error) {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  const json metric = {{{"name", "queue-depth-per-replica"}, {"target", 2}}};
  EXPECT_EQ(message({{"minReplicas", 5}, {"maxReplicas", 2}, {"metrics", metric}}),
            "LLMDeployment spec.autoscaling.minReplicas: (5) must not exceed maxReplicas (2)");
  EXPECT_EQ(message({{"maxReplicas", 2},
                     {"metrics", {{{"name", "queue-depth-per-replica"}, {"target", -1}}}}}),
            "LLMDeployment spec.autoscaling.metrics[0].target: must be positive, got -1");
  EXPECT_NE(message({{"maxReplicas", 2}, {"metrics", {{{"name", "cpu"}, {"target", 1}}}}})
                .find("metrics[0].name: unknown metric \"cpu\"; known: queue-depth-per-replica"),
            std::string::npos);
  EXPECT_NE(
      message({{"maxReplicas", 2}, {"metrics", {{{"name", "kv-cache-usage"}, {"target", 80}}}}})
          .find("fraction"),
      std::string::npos);
  EXPECT_EQ(message({{"metrics", metric}}),
            "LLMDeployment spec.autoscaling.maxReplicas: is required");
  EXPECT_EQ(message({{"maxReplicas", 2}, {"metrics", metric}, {"scaleToZeroAfter", "1m"}}),
            "LLMDeployment spec.autoscaling.scaleToZeroAfter: needs minReplicas 0 (it is 1)");
  EXPECT_NE(
      message({{"maxReplicas", 2},
               {"metrics", metric},
               {"behavior",
                {{"scaleUp",
                  {{"policies", {{{"type", "Cores"}, {"value", 1}, {"periodSeconds", 15}}}}}}}}})
          .find("spec.autoscaling.behavior.scaleUp.policies[0].type: wants Pods or Percent"),
      std::string::npos);
  EXPECT_NE(message({{"maxReplicas", 2}, {"metrics", metric}, {"scaleToZeroAfter", "soon"}})
                .find("spec.autoscaling.scaleToZeroAfter"),
            std::string::npos);
  EXPECT_EQ(message({{"maxReplicas", 2}, {"metrics", metric}}), "accepted");
}

}  // namespace
}  // namespace llmops::reconcilers
