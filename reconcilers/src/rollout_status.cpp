#include "llmops/reconcilers/rollout_status.h"

#include <stdexcept>

namespace llmops::reconcilers {

namespace {

using nlohmann::json;

std::optional<TimePoint> time_field(const json& object, const char* key, const std::string& path) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw std::invalid_argument("status" + path + "." + key + ": not a string");
  try {
    return parse_timestamp(it->get<std::string>());
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument("status" + path + "." + key + ": " + error.what());
  }
}

std::optional<int64_t> int_field(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<int64_t>();
}

std::optional<double> number_field(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

Verdict parse_verdict(const json& object) {
  const std::string text = object.value("verdict", "");
  if (text == "Pass") return Verdict::kPass;
  if (text == "Fail") return Verdict::kFail;
  return Verdict::kInconclusive;
}

void put_time(json& object, const char* key, const std::optional<TimePoint>& time) {
  if (time) object[key] = format_timestamp(*time);
}

}  // namespace

const char* verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kPass:
      return "Pass";
    case Verdict::kFail:
      return "Fail";
    case Verdict::kInconclusive:
      return "Inconclusive";
  }
  return "Inconclusive";
}

const RevisionRecord* RolloutStatus::find_revision(int64_t revision) const {
  for (const auto& record : revisions)
    if (record.revision == revision) return &record;
  return nullptr;
}

RevisionRecord* RolloutStatus::find_revision(int64_t revision) {
  for (auto& record : revisions)
    if (record.revision == revision) return &record;
  return nullptr;
}

const Condition* RolloutStatus::find_condition(const std::string& type) const {
  for (const auto& condition : conditions)
    if (condition.type == type) return &condition;
  return nullptr;
}

int RolloutStatus::weight_of(int64_t revision) const {
  for (const auto& share : traffic)
    if (share.revision == revision) return share.weight;
  return 0;
}

RolloutStatus parse_rollout_status(const json& status) {
  RolloutStatus result;
  if (!status.is_object()) return result;
  result.observed_generation = int_field(status, "observedGeneration").value_or(0);
  result.phase = status.value("phase", "");
  result.replicas = static_cast<int>(int_field(status, "replicas").value_or(0));
  result.ready_replicas = static_cast<int>(int_field(status, "readyReplicas").value_or(0));
  result.updated_replicas = static_cast<int>(int_field(status, "updatedReplicas").value_or(0));
  result.selector = status.value("selector", "");
  result.stable_revision = int_field(status, "stableRevision");
  result.canary_revision = int_field(status, "canaryRevision");
  result.aborted_revision = int_field(status, "abortedRevision");
  result.canary_weight = static_cast<int>(int_field(status, "canaryWeight").value_or(0));
  result.current_step = static_cast<int>(int_field(status, "currentStep").value_or(0));
  if (auto it = status.find("traffic"); it != status.end() && it->is_array()) {
    for (const auto& share : *it) {
      result.traffic.push_back({int_field(share, "revision").value_or(0),
                                static_cast<int>(int_field(share, "weight").value_or(0))});
    }
  }
  if (auto it = status.find("revisions"); it != status.end() && it->is_array()) {
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& entry = (*it)[i];
      const std::string path = ".revisions[" + std::to_string(i) + "]";
      RevisionRecord record;
      record.revision = int_field(entry, "revision").value_or(0);
      record.hash = entry.value("hash", "");
      record.model = entry.value("model", json::object());
      record.runtime = entry.value("runtime", json::object());
      record.created_at = time_field(entry, "createdAt", path);
      record.promoted_at = time_field(entry, "promotedAt", path);
      result.revisions.push_back(std::move(record));
    }
  }
  if (auto it = status.find("analysis"); it != status.end() && it->is_object()) {
    const json& entry = *it;
    AnalysisStatus analysis;
    analysis.step = static_cast<int>(int_field(entry, "step").value_or(0));
    analysis.revision = int_field(entry, "revision").value_or(0);
    analysis.started_at = time_field(entry, "startedAt", ".analysis").value_or(TimePoint{});
    analysis.failures = static_cast<int>(int_field(entry, "failures").value_or(0));
    analysis.passes = static_cast<int>(int_field(entry, "passes").value_or(0));
    analysis.inconclusive = static_cast<int>(int_field(entry, "inconclusive").value_or(0));
    if (auto samples = entry.find("samples"); samples != entry.end() && samples->is_array()) {
      for (const auto& sample_json : *samples) {
        AnalysisSample sample;
        sample.time = time_field(sample_json, "time", ".analysis.samples").value_or(TimePoint{});
        if (auto metrics = sample_json.find("metrics");
            metrics != sample_json.end() && metrics->is_object()) {
          for (const auto& [name, value] : metrics->items())
            if (value.is_number()) sample.metrics[name] = value.get<double>();
        }
        sample.verdict = parse_verdict(sample_json);
        analysis.samples.push_back(std::move(sample));
      }
    }
    if (auto metrics = entry.find("metrics"); metrics != entry.end() && metrics->is_array()) {
      for (const auto& metric_json : *metrics) {
        MetricResult metric;
        metric.name = metric_json.value("name", "");
        metric.value = number_field(metric_json, "value");
        metric.max = number_field(metric_json, "max");
        metric.min = number_field(metric_json, "min");
        metric.verdict = parse_verdict(metric_json);
        analysis.metrics.push_back(std::move(metric));
      }
    }
    result.analysis = std::move(analysis);
  }
  if (auto it = status.find("conditions"); it != status.end() && it->is_array()) {
    for (const auto& entry : *it) {
      Condition condition;
      condition.type = entry.value("type", "");
      condition.status = entry.value("status", "Unknown");
      condition.reason = entry.value("reason", "");
      condition.message = entry.value("message", "");
      condition.observed_generation = int_field(entry, "observedGeneration").value_or(0);
      condition.last_transition_time = entry.value("lastTransitionTime", "");
      result.conditions.push_back(std::move(condition));
    }
  }
  result.step_started_at = time_field(status, "stepStartedAt", "");
  result.last_progress_at = time_field(status, "lastProgressAt", "");
  result.scale_down_at = time_field(status, "scaleDownAt", "");
  return result;
}

json to_json(const RolloutStatus& status) {
  json out = json::object();
  out["observedGeneration"] = status.observed_generation;
  if (!status.phase.empty()) out["phase"] = status.phase;
  out["replicas"] = status.replicas;
  out["readyReplicas"] = status.ready_replicas;
  out["updatedReplicas"] = status.updated_replicas;
  out["selector"] = status.selector;
  if (status.stable_revision) out["stableRevision"] = *status.stable_revision;
  if (status.canary_revision) out["canaryRevision"] = *status.canary_revision;
  if (status.aborted_revision) out["abortedRevision"] = *status.aborted_revision;
  out["canaryWeight"] = status.canary_weight;
  out["currentStep"] = status.current_step;
  out["traffic"] = json::array();
  for (const auto& share : status.traffic)
    out["traffic"].push_back({{"revision", share.revision}, {"weight", share.weight}});
  out["revisions"] = json::array();
  for (const auto& record : status.revisions) {
    json entry = {{"revision", record.revision},
                  {"hash", record.hash},
                  {"model", record.model},
                  {"runtime", record.runtime}};
    put_time(entry, "createdAt", record.created_at);
    put_time(entry, "promotedAt", record.promoted_at);
    out["revisions"].push_back(std::move(entry));
  }
  if (status.analysis) {
    const AnalysisStatus& analysis = *status.analysis;
    json entry = {{"step", analysis.step},
                  {"revision", analysis.revision},
                  {"startedAt", format_timestamp(analysis.started_at)},
                  {"failures", analysis.failures},
                  {"passes", analysis.passes},
                  {"inconclusive", analysis.inconclusive},
                  {"samples", json::array()},
                  {"metrics", json::array()}};
    for (const auto& sample : analysis.samples) {
      json metrics = json::object();
      for (const auto& [name, value] : sample.metrics) metrics[name] = value;
      entry["samples"].push_back({{"time", format_timestamp(sample.time)},
                                  {"metrics", std::move(metrics)},
                                  {"verdict", verdict_name(sample.verdict)}});
    }
    for (const auto& metric : analysis.metrics) {
      json item = {{"name", metric.name}, {"verdict", verdict_name(metric.verdict)}};
      if (metric.value) item["value"] = *metric.value;
      if (metric.max) item["max"] = *metric.max;
      if (metric.min) item["min"] = *metric.min;
      entry["metrics"].push_back(std::move(item));
    }
    out["analysis"] = std::move(entry);
  }
  out["conditions"] = json::array();
  for (const auto& condition : status.conditions) {
    json entry = {{"type", condition.type},
                  {"status", condition.status},
                  {"observedGeneration", condition.observed_generation}};
    if (!condition.reason.empty()) entry["reason"] = condition.reason;
    if (!condition.message.empty()) entry["message"] = condition.message;
    if (!condition.last_transition_time.empty())
      entry["lastTransitionTime"] = condition.last_transition_time;
    out["conditions"].push_back(std::move(entry));
  }
  put_time(out, "stepStartedAt", status.step_started_at);
  put_time(out, "lastProgressAt", status.last_progress_at);
  put_time(out, "scaleDownAt", status.scale_down_at);
  return out;
}

}  // namespace llmops::reconcilers
