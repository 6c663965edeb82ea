#include "llmops/reconcilers/canary_analysis.h"

#include <cstdio>

namespace llmops::reconcilers {

namespace {

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

Verdict no_data_verdict(NoDataPolicy policy) {
  switch (policy) {
    case NoDataPolicy::kFail:
      return Verdict::kFail;
    case NoDataPolicy::kPass:
      return Verdict::kPass;
    case NoDataPolicy::kInconclusive:
      return Verdict::kInconclusive;
  }
  return Verdict::kInconclusive;
}

}  // namespace

SampleJudgement judge_sample(const Measurement& measurement, const AnalysisConfig& config) {
  SampleJudgement judgement;
  bool any_fail = false;
  bool any_inconclusive = false;
  if (config.metrics.empty()) {
    judgement.verdict = no_data_verdict(config.no_data);
    judgement.summary = "no metrics configured: no data (" +
                        std::string(verdict_name(judgement.verdict)) + " by noData)";
    return judgement;
  }
  for (const auto& rule : config.metrics) {
    MetricResult result;
    result.name = rule.name;
    result.max = rule.max;
    result.min = rule.min;
    auto it = measurement.values.find(rule.name);
    if (it != measurement.values.end() && it->second) result.value = *it->second;
    std::string bounds;
    if (rule.max) bounds += "max " + number(*rule.max);
    if (rule.min) bounds += std::string(bounds.empty() ? "" : ", ") + "min " + number(*rule.min);
    if (result.value) {
      const bool ok =
          (!rule.max || *result.value <= *rule.max) && (!rule.min || *result.value >= *rule.min);
      result.verdict = ok ? Verdict::kPass : Verdict::kFail;
    } else {
      result.verdict = no_data_verdict(config.no_data);
    }
    any_fail = any_fail || result.verdict == Verdict::kFail;
    any_inconclusive = any_inconclusive || result.verdict == Verdict::kInconclusive;
    if (!judgement.summary.empty()) judgement.summary += ", ";
    judgement.summary += rule.name + "=" + (result.value ? number(*result.value) : "no data") +
                         " (" + bounds + ") " + verdict_name(result.verdict);
    judgement.metrics.push_back(std::move(result));
  }
  judgement.verdict = any_fail           ? Verdict::kFail
                      : any_inconclusive ? Verdict::kInconclusive
                                         : Verdict::kPass;
  return judgement;
}

}  // namespace llmops::reconcilers
