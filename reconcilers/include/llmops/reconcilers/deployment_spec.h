// The LLMDeployment spec as the reconcilers read it: the API contract of DESIGN.md parsed
// into plain structs, with CRD defaults applied for fields that are absent. Parsing throws
// std::invalid_argument naming the field at fault (spec.rollout.steps[2], …).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "llmops/reconcilers/time_text.h"

namespace llmops::reconcilers {

struct MetricRule {
  std::string name;  // error-rate, ttft-p95-seconds, itl-p95-seconds, tokens-per-second
  std::optional<double> max;
  std::optional<double> min;
};

enum class NoDataPolicy { kInconclusive, kFail, kPass };

struct AnalysisConfig {
  Seconds interval{15};
  // Conclusive (Pass or Fail) samples per analysis step, as Argo's count; an inconclusive
  // sample does not count, it holds the step.
  int count = 3;
  int failure_limit = 1;  // failed samples tolerated; one more fails the step (Argo's meaning)
  NoDataPolicy no_data = NoDataPolicy::kInconclusive;
  std::vector<MetricRule> metrics;
};

struct RolloutStep {
  enum class Kind { kSetWeight, kPause, kAnalysis };
  Kind kind = Kind::kPause;
  int weight = 0;                   // kSetWeight
  std::optional<Seconds> duration;  // kPause; none = wait for promote
};

// promote / abort / rollbackTo: each names the revision it applies to.
struct RevisionControl {
  int64_t revision = 0;
  std::optional<int> step;  // promote only; none = all remaining steps
};

struct DeploymentSpec {
  std::string name;
  std::string namespace_name;
  int64_t generation = 0;
  int replicas = 1;
  nlohmann::json model;    // spec.model as written (name, uri, sha256, tokenizerUri)
  nlohmann::json runtime;  // spec.runtime as written
  std::vector<RolloutStep> steps;
  AnalysisConfig analysis;
  Seconds progress_deadline{600};
  bool paused = false;
  std::optional<RevisionControl> promote;
  std::optional<RevisionControl> abort;
  std::optional<RevisionControl> rollback_to;
  int revision_history_limit = 10;
};

// `object` is the whole LLMDeployment (metadata and spec).
DeploymentSpec parse_deployment_spec(const nlohmann::json& object);

}  // namespace llmops::reconcilers
