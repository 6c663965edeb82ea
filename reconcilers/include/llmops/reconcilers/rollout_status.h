// The LLMDeployment status: everything the next reconcile needs to resume a rollout,
// whichever operator process runs it. Parsed from and written back to the API's JSON;
// writing what was parsed gives the same JSON, so an unchanged status is never rewritten.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "llmops/api/status_parse.h"
#include "llmops/reconcilers/time_text.h"

namespace llmops::reconcilers {

enum class Verdict { kPass, kFail, kInconclusive };
const char* verdict_name(Verdict verdict);

struct RevisionRecord {
  int64_t revision = 0;
  std::string hash;
  nlohmann::json model;    // what spec.model was for this revision
  nlohmann::json runtime;  // what spec.runtime was
  std::optional<TimePoint> created_at;
  std::optional<TimePoint> promoted_at;  // set once it became the stable revision
};

using TrafficShare = api::TrafficShare;

struct AnalysisSample {
  TimePoint time;
  std::map<std::string, double> metrics;  // measured values; a metric without data is absent
  Verdict verdict = Verdict::kInconclusive;
};

struct MetricResult {
  std::string name;
  std::optional<double> value;  // none: no data
  std::optional<double> max;
  std::optional<double> min;
  Verdict verdict = Verdict::kInconclusive;
};

struct AnalysisStatus {
  int step = 0;
  int64_t revision = 0;
  TimePoint started_at;
  int failures = 0;
  int passes = 0;
  int inconclusive = 0;
  std::vector<AnalysisSample> samples;  // the most recent ones, oldest first
  std::vector<MetricResult> metrics;    // the last sample against its thresholds
};

struct Condition {
  std::string type;
  std::string status;  // True, False, Unknown
  std::string reason;
  std::string message;
  int64_t observed_generation = 0;
  std::string last_transition_time;
};

struct RolloutStatus {
  int64_t observed_generation = 0;
  std::string phase;  // Healthy, Progressing, Paused, Degraded
  int replicas = 0;
  int ready_replicas = 0;
  int updated_replicas = 0;
  std::string selector;
  std::optional<int64_t> stable_revision;
  std::optional<int64_t> canary_revision;
  std::optional<int64_t> aborted_revision;
  int canary_weight = 0;
  int current_step = 0;
  std::vector<TrafficShare> traffic;
  std::vector<RevisionRecord> revisions;
  std::optional<AnalysisStatus> analysis;
  std::vector<Condition> conditions;
  std::optional<TimePoint> step_started_at;
  std::optional<TimePoint> last_progress_at;
  std::optional<TimePoint> scale_down_at;

  const RevisionRecord* find_revision(int64_t revision) const;
  RevisionRecord* find_revision(int64_t revision);
  const Condition* find_condition(const std::string& type) const;
  // The weight status.traffic gives a revision (0 when absent).
  int weight_of(int64_t revision) const;
};

// Throws std::invalid_argument naming the status field when it cannot be read.
RolloutStatus parse_rollout_status(const nlohmann::json& status);
nlohmann::json to_json(const RolloutStatus& status);

}  // namespace llmops::reconcilers
