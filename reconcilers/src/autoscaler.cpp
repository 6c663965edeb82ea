#include "llmops/reconcilers/autoscaler.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <sstream>

#include "spec_fields.h"

namespace llmops::reconcilers {

namespace {

using nlohmann::json;
using spec_fields::bad;
using spec_fields::child;
using spec_fields::integer;

constexpr double kTolerance = 0.1;  // HPA's default --horizontal-pod-autoscaler-tolerance
const char* const kMetricNames[] = {kQueueDepthPerReplica, kInFlightPerReplica, kKvCacheUsage,
                                    kTokensPerSecondPerReplica};

ScalingRules default_scale_up() {
  ScalingRules rules;
  rules.stabilization = Seconds(0);
  rules.policies = {{ScalingPolicy::Type::Pods, 4, Seconds(15)},
                    {ScalingPolicy::Type::Percent, 100, Seconds(15)}};
  return rules;
}

ScalingRules default_scale_down() {
  ScalingRules rules;
  rules.stabilization = Seconds(300);
  rules.policies = {{ScalingPolicy::Type::Percent, 100, Seconds(15)}};
  return rules;
}

ScalingRules scaling_rules(const json* value, const std::string& field, ScalingRules rules) {
  if (!value) return rules;
  if (!value->is_object()) bad(field, "wants an object");
  if (const json* window = child(*value, "stabilizationWindowSeconds")) {
    const auto seconds = integer(*window, field + ".stabilizationWindowSeconds", 0);
    if (seconds > 3600) bad(field + ".stabilizationWindowSeconds", "must be at most 3600");
    rules.stabilization = Seconds(static_cast<double>(seconds));
  }
  if (const json* select = child(*value, "selectPolicy")) {
    const std::string text = select->is_string() ? select->get<std::string>() : "";
    if (text == "Max") {
      rules.select = ScalingRules::Select::Max;
    } else if (text == "Min") {
      rules.select = ScalingRules::Select::Min;
    } else if (text == "Disabled") {
      rules.select = ScalingRules::Select::Disabled;
    } else {
      bad(field + ".selectPolicy", "wants Max, Min or Disabled, got " + select->dump());
    }
  }
  if (const json* policies = child(*value, "policies")) {
    if (!policies->is_array() || policies->empty())
      bad(field + ".policies", "wants a non-empty list");
    rules.policies.clear();
    for (size_t i = 0; i < policies->size(); ++i) {
      const json& item = (*policies)[i];
      const std::string at = field + ".policies[" + std::to_string(i) + "]";
      if (!item.is_object()) bad(at, "wants an object");
      ScalingPolicy policy;
      const json* type = child(item, "type");
      const std::string text = type && type->is_string() ? type->get<std::string>() : "";
      if (text == "Pods") {
        policy.type = ScalingPolicy::Type::Pods;
      } else if (text == "Percent") {
        policy.type = ScalingPolicy::Type::Percent;
      } else {
        bad(at + ".type", "wants Pods or Percent, got " + (type ? type->dump() : "nothing"));
      }
      const json* amount = child(item, "value");
      if (!amount) bad(at + ".value", "is required");
      policy.value = static_cast<int>(integer(*amount, at + ".value", 1));
      const json* period = child(item, "periodSeconds");
      if (!period) bad(at + ".periodSeconds", "is required");
      const auto seconds = integer(*period, at + ".periodSeconds", 1);
      if (seconds > 1800) bad(at + ".periodSeconds", "must be at most 1800");
      policy.period = Seconds(static_cast<double>(seconds));
      rules.policies.push_back(policy);
    }
  }
  return rules;
}

// The value one pod reports for a metric, if it reports it.
std::optional<double> pod_value(const std::string& metric, const PodLoad& pod) {
  if (metric == kQueueDepthPerReplica) return pod.waiting;
  if (metric == kKvCacheUsage) return pod.kv_cache_usage;
  if (metric == kTokensPerSecondPerReplica) return pod.tokens_per_second;
  if (pod.waiting && pod.running) return *pod.waiting + *pod.running;  // in-flight
  return std::nullopt;
}

std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

struct MetricRecommendation {
  int replicas = 0;
  std::string why;
};

// HPA's replica count for one per-pod metric: ceil(usage / target × pods), unchanged within
// the tolerance. A pod without data counts as being at the target (neither load nor
// idleness); no pod with data gives no recommendation.
std::optional<MetricRecommendation> recommend(const AutoscalingMetric& metric,
                                              const AutoscaleInput& input,
                                              std::map<std::string, double>& values) {
  const int pods = static_cast<int>(input.pods.size());
  double sum = 0;
  int reporting = 0;
  for (const PodLoad& pod : input.pods) {
    if (const auto value = pod_value(metric.name, pod)) {
      sum += *value;
      ++reporting;
    }
  }
  if (pods == 0 || reporting == 0) return std::nullopt;
  const double usage = sum / reporting;
  values[metric.name] = usage;
  const double ratio = usage / metric.target;
  MetricRecommendation result;
  result.why = metric.name + " " + number(usage) + " against a target of " + number(metric.target) +
               " (" + std::to_string(reporting) + " of " + std::to_string(pods) +
               " pods reporting)";
  if (std::abs(ratio - 1.0) <= kTolerance) {
    result.replicas = input.current;
    return result;
  }
  const double filled = (sum + (pods - reporting) * metric.target) / (pods * metric.target);
  // Filling the silent pods in at the target can bring the ratio within the tolerance or
  // turn its direction: then no change, as HPA does with missing pods.
  if (std::abs(filled - 1.0) <= kTolerance || (filled - 1.0) * (ratio - 1.0) < 0) {
    result.replicas = input.current;
    return result;
  }
  result.replicas = static_cast<int>(std::ceil(filled * pods - 1e-9));
  return result;
}

// The changes made within `period` before now, split into added and removed pods.
std::pair<int, int> changes_within(const std::vector<AutoscalerState::ScaleEvent>& events,
                                   TimePoint now, Seconds period) {
  int added = 0;
  int removed = 0;
  for (const auto& event : events) {
    if (now - event.at >= period) continue;
    if (event.change > 0) {
      added += event.change;
    } else {
      removed -= event.change;
    }
  }
  return {added, removed};
}

int scale_up_limit(const ScalingRules& rules, int current,
                   const std::vector<AutoscalerState::ScaleEvent>& events, TimePoint now) {
  if (rules.select == ScalingRules::Select::Disabled) return current;
  int limit = rules.select == ScalingRules::Select::Min ? INT_MAX : INT_MIN;
  for (const ScalingPolicy& policy : rules.policies) {
    const auto [added, removed] = changes_within(events, now, policy.period);
    const int start = current - added + removed;
    const int proposed =
        policy.type == ScalingPolicy::Type::Pods
            ? start + policy.value
            : static_cast<int>(std::ceil(start * (1.0 + policy.value / 100.0) - 1e-9));
    limit = rules.select == ScalingRules::Select::Min ? std::min(limit, proposed)
                                                      : std::max(limit, proposed);
  }
  return rules.policies.empty() ? INT_MAX : limit;
}

int scale_down_limit(const ScalingRules& rules, int current,
                     const std::vector<AutoscalerState::ScaleEvent>& events, TimePoint now) {
  if (rules.select == ScalingRules::Select::Disabled) return current;
  int limit = rules.select == ScalingRules::Select::Min ? INT_MIN : INT_MAX;
  for (const ScalingPolicy& policy : rules.policies) {
    const auto [added, removed] = changes_within(events, now, policy.period);
    const int start = current + removed - added;
    const int proposed = policy.type == ScalingPolicy::Type::Pods
                             ? start - policy.value
                             : static_cast<int>(start * (1.0 - policy.value / 100.0));
    // Max picks the policy that allows the most change: the lowest count.
    limit = rules.select == ScalingRules::Select::Min ? std::max(limit, proposed)
                                                      : std::min(limit, proposed);
  }
  return rules.policies.empty() ? 0 : limit;
}

void forget_before(AutoscalerState& state, const AutoscalingSpec& spec, TimePoint now) {
  const Seconds window = std::max(spec.scale_up.stabilization, spec.scale_down.stabilization);
  std::erase_if(state.recommendations, [&](const auto& r) { return now - r.at > window; });
  Seconds longest{0};
  for (const auto* rules : {&spec.scale_up, &spec.scale_down}) {
    for (const auto& policy : rules->policies) longest = std::max(longest, policy.period);
  }
  std::erase_if(state.events, [&](const auto& e) { return now - e.at > longest; });
}

AutoscaleDecision set_to(int desired, std::string reason, std::string message,
                         AutoscaleDecision decision) {
  decision.desired = desired;
  decision.reason = std::move(reason);
  decision.message = std::move(message);
  return decision;
}

}  // namespace

AutoscalingSpec parse_autoscaling(const json& autoscaling) {
  const std::string field = "spec.autoscaling";
  if (!autoscaling.is_object()) bad(field, "wants an object");
  AutoscalingSpec spec;
  if (const json* min = child(autoscaling, "minReplicas"))
    spec.min_replicas = static_cast<int>(integer(*min, field + ".minReplicas", 0));
  const json* max = child(autoscaling, "maxReplicas");
  if (!max) bad(field + ".maxReplicas", "is required");
  spec.max_replicas = static_cast<int>(integer(*max, field + ".maxReplicas", 1));
  if (spec.min_replicas > spec.max_replicas)
    bad(field + ".minReplicas", "(" + std::to_string(spec.min_replicas) +
                                    ") must not exceed maxReplicas (" +
                                    std::to_string(spec.max_replicas) + ")");
  const json* metrics = child(autoscaling, "metrics");
  if (!metrics || !metrics->is_array() || metrics->empty())
    bad(field + ".metrics", "wants a non-empty list of {name, target}");
  for (size_t i = 0; i < metrics->size(); ++i) {
    const json& item = (*metrics)[i];
    const std::string at = field + ".metrics[" + std::to_string(i) + "]";
    if (!item.is_object()) bad(at, "wants an object {name, target}");
    AutoscalingMetric metric;
    const json* name = child(item, "name");
    metric.name = name && name->is_string() ? name->get<std::string>() : "";
    if (std::find(std::begin(kMetricNames), std::end(kMetricNames), metric.name) ==
        std::end(kMetricNames)) {
      std::string known;
      for (const char* n : kMetricNames) known += std::string(known.empty() ? "" : ", ") + n;
      bad(at + ".name",
          "unknown metric " + (name ? name->dump() : "(missing)") + "; known: " + known);
    }
    const json* target = child(item, "target");
    if (!target || !target->is_number()) bad(at + ".target", "wants a number");
    metric.target = target->get<double>();
    if (!(metric.target > 0)) bad(at + ".target", "must be positive, got " + target->dump());
    if (metric.name == kKvCacheUsage && metric.target > 1)
      bad(at + ".target", "is a fraction of the KV cache (0-1], got " + target->dump());
    spec.metrics.push_back(metric);
  }
  const json* behavior = child(autoscaling, "behavior");
  if (behavior && !behavior->is_object()) bad(field + ".behavior", "wants an object");
  spec.scale_up = scaling_rules(behavior ? child(*behavior, "scaleUp") : nullptr,
                                field + ".behavior.scaleUp", default_scale_up());
  spec.scale_down = scaling_rules(behavior ? child(*behavior, "scaleDown") : nullptr,
                                  field + ".behavior.scaleDown", default_scale_down());
  if (const json* idle = child(autoscaling, "scaleToZeroAfter")) {
    spec.scale_to_zero_after = spec_fields::duration(*idle, field + ".scaleToZeroAfter");
    if (spec.scale_to_zero_after->count() <= 0)
      bad(field + ".scaleToZeroAfter", "must be positive");
    if (spec.min_replicas != 0)
      bad(field + ".scaleToZeroAfter",
          "needs minReplicas 0 (it is " + std::to_string(spec.min_replicas) + ")");
  }
  return spec;
}

AutoscaleDecision decide_replicas(const AutoscalingSpec& spec, AutoscalerState& state,
                                  const AutoscaleInput& input) {
  const TimePoint now = input.now;
  if (input.active || input.router_waiting > 0 || !state.last_active) state.last_active = now;
  forget_before(state, spec, now);
  const int floor = std::max(1, spec.min_replicas);
  AutoscaleDecision decision;
  decision.desired = input.current;

  if (input.current == 0) {
    if (input.router_waiting > 0 || input.active) {
      state.recommendations.clear();
      state.events.clear();
      return set_to(floor, "ScaledFromZero",
                    std::to_string(input.router_waiting) +
                        " requests waiting at zero replicas: scaled to " + std::to_string(floor),
                    decision);
    }
    return decision;
  }
  if (spec.scale_to_zero_after && now - *state.last_active >= *spec.scale_to_zero_after) {
    state.recommendations.clear();
    state.events.clear();
    return set_to(0, "ScaledToZero",
                  "no request for " + number(spec.scale_to_zero_after->count()) +
                      " s (scaleToZeroAfter): scaled to zero",
                  decision);
  }
  if (input.current > spec.max_replicas) {
    return set_to(spec.max_replicas, "AboveMaximum",
                  std::to_string(input.current) + " replicas is above maxReplicas " +
                      std::to_string(spec.max_replicas),
                  decision);
  }
  if (input.current < floor) {
    return set_to(
        floor, "BelowMinimum",
        std::to_string(input.current) + " replicas is below the minimum " + std::to_string(floor),
        decision);
  }

  // As HPA does for a new autoscaler, the count at hand is the first recommendation, so
  // that a fresh start (or an operator restart) does not scale down before the window.
  if (state.recommendations.empty()) state.recommendations.push_back({now, input.current});

  // The largest recommendation of the metrics; none with data: no change.
  std::optional<MetricRecommendation> chosen;
  for (const AutoscalingMetric& metric : spec.metrics) {
    const auto recommendation = recommend(metric, input, decision.values);
    if (recommendation && (!chosen || recommendation->replicas > chosen->replicas))
      chosen = recommendation;
  }
  if (!chosen) return decision;
  const int recommended = chosen->replicas;

  // Stabilization (HPA's stabilizeRecommendationWithBehaviors): scale up only to the lowest
  // recommendation of the up window, down only to the highest of the down window.
  int up = recommended;
  int down = recommended;
  for (const auto& r : state.recommendations) {
    if (now - r.at < spec.scale_up.stabilization) up = std::min(up, r.replicas);
    if (now - r.at < spec.scale_down.stabilization) down = std::max(down, r.replicas);
  }
  state.recommendations.push_back({now, recommended});
  int desired = input.current;
  if (desired < up) desired = up;
  if (desired > down) desired = down;

  // Rate policies and min/max (HPA's convertDesiredReplicasWithBehaviorRate).
  std::string limited;
  if (desired > input.current) {
    const int limit =
        std::max(input.current, scale_up_limit(spec.scale_up, input.current, state.events, now));
    const int allowed = std::min(spec.max_replicas, limit);
    if (desired > allowed) {
      limited = allowed == spec.max_replicas ? "maxReplicas" : "the scale-up policy";
      desired = allowed;
    }
  } else if (desired < input.current) {
    const int limit = std::min(input.current,
                               scale_down_limit(spec.scale_down, input.current, state.events, now));
    const int allowed = std::max(floor, limit);
    if (desired < allowed) {
      limited = allowed == floor ? "the minimum" : "the scale-down policy";
      desired = allowed;
    }
  }
  if (desired == input.current) return decision;
  state.events.push_back({now, desired - input.current});
  std::string message =
      chosen->why + ": " + std::to_string(input.current) + " → " + std::to_string(desired);
  if (desired != recommended) {
    message += " (recommended " + std::to_string(recommended) +
               (limited.empty() ? ", stabilized" : ", limited by " + limited) + ")";
  }
  return set_to(desired, desired > input.current ? "ScaledUp" : "ScaledDown", message, decision);
}

std::map<int64_t, int> split_by_weight(int total, const std::map<int64_t, int>& weights) {
  std::map<int64_t, int> counts;
  for (const auto& [revision, weight] : weights) {
    if (weight <= 0 || total <= 0) {
      counts[revision] = 0;
      continue;
    }
    counts[revision] =
        std::max(1, static_cast<int>(std::ceil(static_cast<double>(total) * weight / 100.0)));
  }
  return counts;
}

}  // namespace llmops::reconcilers
