#include "llmops/reconcilers/deployment_spec.h"

#include <stdexcept>

#include "llmops/common/kube_validation.h"
#include "llmops/reconcilers/pod_template.h"
#include "spec_fields.h"

namespace llmops::reconcilers {

namespace {

using nlohmann::json;

using spec_fields::bad;
using spec_fields::child;
using spec_fields::duration;
using spec_fields::integer;

std::optional<RevisionControl> control(const json* value, const std::string& field,
                                       bool with_step) {
  if (!value) return std::nullopt;
  if (!value->is_object()) bad(field, "wants an object");
  RevisionControl result;
  const json* revision = child(*value, "revision");
  if (!revision) bad(field + ".revision", "is required");
  result.revision = integer(*revision, field + ".revision", 1);
  if (with_step) {
    if (const json* step = child(*value, "step"))
      result.step = static_cast<int>(integer(*step, field + ".step", 0));
  }
  return result;
}

AnalysisConfig analysis_config(const json* value) {
  AnalysisConfig config;
  if (!value) return config;
  const std::string field = "spec.rollout.analysis";
  if (const json* interval = child(*value, "interval")) {
    config.interval = duration(*interval, field + ".interval");
    if (config.interval.count() <= 0) bad(field + ".interval", "must be positive");
  }
  if (const json* count = child(*value, "count"))
    config.count = static_cast<int>(integer(*count, field + ".count", 1));
  if (const json* limit = child(*value, "failureLimit"))
    config.failure_limit = static_cast<int>(integer(*limit, field + ".failureLimit", 0));
  if (const json* no_data = child(*value, "noData")) {
    const std::string text = no_data->is_string() ? no_data->get<std::string>() : "";
    if (text == "Inconclusive") {
      config.no_data = NoDataPolicy::kInconclusive;
    } else if (text == "Fail") {
      config.no_data = NoDataPolicy::kFail;
    } else if (text == "Pass") {
      config.no_data = NoDataPolicy::kPass;
    } else {
      bad(field + ".noData", "wants Inconclusive, Fail or Pass, got " + no_data->dump());
    }
  }
  if (const json* metrics = child(*value, "metrics")) {
    if (!metrics->is_array()) bad(field + ".metrics", "wants a list");
    for (std::size_t i = 0; i < metrics->size(); ++i) {
      const std::string item = field + ".metrics[" + std::to_string(i) + "]";
      const json& entry = (*metrics)[i];
      const json* name = child(entry, "name");
      if (!name || !name->is_string() || name->get<std::string>().empty())
        bad(item + ".name", "is required");
      MetricRule rule;
      rule.name = name->get<std::string>();
      for (auto [key, slot] : {std::pair{"max", &rule.max}, std::pair{"min", &rule.min}}) {
        if (const json* bound = child(entry, key)) {
          if (!bound->is_number()) bad(item + "." + key, "wants a number");
          *slot = bound->get<double>();
        }
      }
      if (!rule.max && !rule.min) bad(item, "needs max and/or min");
      config.metrics.push_back(rule);
    }
  }
  return config;
}

}  // namespace

DeploymentSpec parse_deployment_spec(const json& object) {
  DeploymentSpec spec;
  const json* metadata = child(object, "metadata");
  if (!metadata) bad("metadata", "is required");
  if (!metadata->is_object()) bad("metadata", "wants an object, got " + metadata->dump());
  // Fields of the wrong type are errors naming the field, never a JSON type error.
  const auto metadata_text = [&](const char* key, const char* fallback) {
    const json* value = child(*metadata, key);
    if (!value) return std::string(fallback);
    if (!value->is_string())
      bad(std::string("metadata.") + key, "wants a string, got " + value->dump());
    return value->get<std::string>();
  };
  spec.name = metadata_text("name", "");
  spec.namespace_name = metadata_text("namespace", "default");
  if (const json* generation = child(*metadata, "generation"))
    spec.generation = integer(*generation, "metadata.generation", 0);
  if (spec.name.empty()) bad("metadata.name", "is required");
  try {
    service_name_for(spec.name);
  } catch (const std::invalid_argument& error) {
    bad("metadata.name", error.what());
  }
  const json* body = child(object, "spec");
  if (!body || !body->is_object()) bad("spec", "is required");
  if (const json* replicas = child(*body, "replicas"))
    spec.replicas = static_cast<int>(integer(*replicas, "spec.replicas", 0));
  const json* model = child(*body, "model");
  if (!model || !model->is_object()) bad("spec.model", "is required");
  for (const char* key : {"name", "uri"}) {
    const json* value = child(*model, key);
    if (!value || !value->is_string() || value->get<std::string>().empty())
      bad(std::string("spec.model.") + key, "is required");
  }
  spec.model = *model;
  const json* runtime = child(*body, "runtime");
  if (!runtime || !runtime->is_object()) bad("spec.runtime", "is required");
  const json* image = child(*runtime, "image");
  if (!image || !image->is_string() || image->get<std::string>().empty())
    bad("spec.runtime.image", "is required");
  spec.runtime = *runtime;
  // What the pods will ask for: a real API server refuses a pod whose quantities do not
  // parse, so say so here, on the LLMDeployment, instead of failing every pod create.
  if (const json* resources = child(*runtime, "resources")) {
    if (!resources->is_object()) bad("spec.runtime.resources", "wants an object");
    for (const char* kind : {"requests", "limits"}) {
      const json* amounts = child(*resources, kind);
      if (!amounts) continue;
      const std::string field = std::string("spec.runtime.resources.") + kind;
      if (!amounts->is_object()) bad(field, "wants an object");
      for (const auto& [resource, value] : amounts->items()) {
        const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
        std::string error = kube_validation::quantityError(text);
        if (error.empty() && kube_validation::parseQuantity(text, 1000).value_or(0) < 0)
          error = "must be greater than or equal to 0";
        if (!error.empty()) bad(field + "." + resource, "\"" + text + "\": " + error);
      }
    }
  }
  if (const json* limit = child(*body, "revisionHistoryLimit"))
    spec.revision_history_limit = static_cast<int>(integer(*limit, "spec.revisionHistoryLimit", 0));
  spec.rollback_to = control(child(*body, "rollbackTo"), "spec.rollbackTo", false);

  const json* rollout = child(*body, "rollout");
  if (!rollout) return spec;
  if (const json* steps = child(*rollout, "steps")) {
    if (!steps->is_array()) bad("spec.rollout.steps", "wants a list");
    for (std::size_t i = 0; i < steps->size(); ++i) {
      const std::string field = "spec.rollout.steps[" + std::to_string(i) + "]";
      const json& entry = (*steps)[i];
      if (!entry.is_object() || entry.size() != 1)
        bad(field, "wants exactly one of setWeight, pause, analysis");
      RolloutStep step;
      if (const json* weight = child(entry, "setWeight")) {
        step.kind = RolloutStep::Kind::kSetWeight;
        step.weight = static_cast<int>(integer(*weight, field + ".setWeight", 0));
        if (step.weight > 100) bad(field + ".setWeight", "must be at most 100");
      } else if (const json* pause = child(entry, "pause")) {
        step.kind = RolloutStep::Kind::kPause;
        if (const json* length = child(*pause, "duration"))
          step.duration = duration(*length, field + ".pause.duration");
      } else if (child(entry, "analysis")) {
        step.kind = RolloutStep::Kind::kAnalysis;
      } else {
        bad(field, "wants exactly one of setWeight, pause, analysis");
      }
      spec.steps.push_back(step);
    }
  }
  spec.analysis = analysis_config(child(*rollout, "analysis"));
  if (const json* deadline = child(*rollout, "progressDeadlineSeconds"))
    spec.progress_deadline = Seconds(integer(*deadline, "spec.rollout.progressDeadlineSeconds", 1));
  if (const json* paused = child(*rollout, "paused")) {
    if (!paused->is_boolean()) bad("spec.rollout.paused", "wants true or false");
    spec.paused = paused->get<bool>();
  }
  spec.promote = control(child(*rollout, "promote"), "spec.rollout.promote", true);
  spec.abort = control(child(*rollout, "abort"), "spec.rollout.abort", false);
  return spec;
}

}  // namespace llmops::reconcilers
