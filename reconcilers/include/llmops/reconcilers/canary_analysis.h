// Judging one analysis sample: each metric against its max/min, and what "no data" means
// under spec.rollout.analysis.noData. No data is never silently a pass: under Pass it is
// judged Pass and reported as no data (no value) in status and the event.
#pragma once

#include <string>
#include <vector>

#include "llmops/reconcilers/canary_metrics.h"
#include "llmops/reconcilers/deployment_spec.h"
#include "llmops/reconcilers/rollout_status.h"

namespace llmops::reconcilers {

struct SampleJudgement {
  Verdict verdict = Verdict::kInconclusive;
  std::vector<MetricResult> metrics;
  std::string summary;  // "error-rate=0.5 (max 0.01) Fail, ttft-p95-seconds=no data Inconclusive"
};

// Fail if any metric fails; otherwise Inconclusive if any lacks data (policy
// Inconclusive); otherwise Pass. An analysis without metrics has no data.
SampleJudgement judge_sample(const Measurement& measurement, const AnalysisConfig& config);

}  // namespace llmops::reconcilers
