// Autoscaling on LLM signals (spec.autoscaling): the replica count from per-pod queue
// depth, in-flight requests, KV-cache use or token throughput, with the algorithm of the
// HorizontalPodAutoscaler (ratio to target, 10% tolerance, stabilization windows, rate
// policies, min/max), plus scale to zero after an idle time and back on the first waiting
// request. Pure: the operator passes the samples, the time and the state kept between
// ticks; nothing here reads a clock or the network.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "llmops/reconcilers/time_text.h"

namespace llmops::reconcilers {

// The metric names, in the analysis metrics' style.
inline constexpr const char* kQueueDepthPerReplica = "queue-depth-per-replica";
inline constexpr const char* kInFlightPerReplica = "in-flight-per-replica";
inline constexpr const char* kKvCacheUsage = "kv-cache-usage";
inline constexpr const char* kTokensPerSecondPerReplica = "tokens-per-second-per-replica";

struct ScalingPolicy {
  enum class Type { Pods, Percent };
  Type type = Type::Pods;
  int value = 0;       // pods, or percent of the count at the start of the period
  Seconds period{15};  // periodSeconds
};

// One direction of spec.autoscaling.behavior, as HPA's HPAScalingRules.
struct ScalingRules {
  Seconds stabilization{0};
  std::vector<ScalingPolicy> policies;
  enum class Select { Max, Min, Disabled };
  Select select = Select::Max;
};

struct AutoscalingMetric {
  std::string name;  // one of the k* names above
  double target = 0;
};

struct AutoscalingSpec {
  int min_replicas = 1;  // 0 allowed, reached only through scale_to_zero_after
  int max_replicas = 1;
  std::vector<AutoscalingMetric> metrics;
  ScalingRules scale_up;    // default: 0 s window; max of 4 pods and 100% per 15 s
  ScalingRules scale_down;  // default: 300 s window; 100% per 15 s
  std::optional<Seconds> scale_to_zero_after;
};

// spec.autoscaling with HPA's defaults for what is absent. Throws std::invalid_argument
// naming the field: minReplicas > maxReplicas, maxReplicas < 1, a negative or zero
// target, an unknown metric name (the list of known ones is in the message), a bad
// duration, a policy that is not Pods/Percent with a positive value and period.
AutoscalingSpec parse_autoscaling(const nlohmann::json& autoscaling);

// What one pod reports (from its /metrics); absent = could not be scraped or not ready.
// An absent value is "no data", never zero load.
struct PodLoad {
  std::optional<double> waiting;            // requests waiting for a batch slot
  std::optional<double> running;            // requests in the batch
  std::optional<double> kv_cache_usage;     // 0-1
  std::optional<double> tokens_per_second;  // generated tokens per second, recent
};

// Kept by the operator between ticks (in memory, like HPA's recommendations).
struct AutoscalerState {
  struct Recommendation {
    TimePoint at;
    int replicas = 0;
  };
  struct ScaleEvent {
    TimePoint at;
    int change = 0;  // + up, - down
  };
  std::vector<Recommendation> recommendations;  // for the stabilization windows
  std::vector<ScaleEvent> events;               // for the rate policies
  std::optional<TimePoint> last_active;         // last tick that saw a request
};

struct AutoscaleInput {
  TimePoint now;
  int current = 0;            // the count the autoscaler set last (0 when at zero)
  std::vector<PodLoad> pods;  // every live pod of the deployment, one entry each
  int router_waiting = 0;     // requests held by routers for this deployment
  bool active = false;        // any request since the last tick (in flight, waiting, done)
};

struct AutoscaleDecision {
  int desired = 0;
  // Why: "" (no change), or one of ScaledUp, ScaledDown, ScaledToZero, ScaledFromZero,
  // BelowMinimum, AboveMaximum; message says which metric and values decided.
  std::string reason;
  std::string message;
  std::map<std::string, double> values;  // metric name -> the value it was judged on
};

// One tick. Updates `state` (recommendation history, scale events, idle time).
AutoscaleDecision decide_replicas(const AutoscalingSpec& spec, AutoscalerState& state,
                                  const AutoscaleInput& input);

// The count for each revision during a rollout: each revision with weight w gets
// ceil(total × w / 100) pods, at least 1 when w > 0; a revision with weight 0 gets 0.
std::map<int64_t, int> split_by_weight(int total, const std::map<int64_t, int>& weights);

}  // namespace llmops::reconcilers
