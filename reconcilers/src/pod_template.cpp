#include "llmops/reconcilers/pod_template.h"

#include <stdexcept>

#include "llmops/common/kube_validation.h"

namespace llmops::reconcilers {

namespace {

using nlohmann::json;

std::string string_or(const json& object, const char* key, const std::string& fallback) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

int64_t int_or(const json& object, const char* key, int64_t fallback) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

}  // namespace

std::string pod_name(const std::string& deployment, int64_t revision, int index) {
  const std::string suffix = "-r" + std::to_string(revision) + "-" + std::to_string(index);
  auto name =
      kube_validation::shortenedName(deployment, suffix, kube_validation::kDns1123LabelMaxLength);
  if (!name) throw std::invalid_argument("no pod name fits the suffix " + suffix);
  return *name;
}

std::string deployment_label_value(const std::string& deployment) {
  return *kube_validation::shortenedName(deployment, "", kube_validation::kLabelValueMaxLength);
}

std::string service_name_for(const std::string& deployment) {
  std::string name =
      *kube_validation::shortenedName(deployment, "", kube_validation::kDns1123LabelMaxLength);
  if (std::string error = kube_validation::dns1035LabelError(name); !error.empty()) {
    throw std::invalid_argument("metadata.name \"" + deployment +
                                "\" cannot name the LLMDeployment's Service: " + error +
                                "; rename the LLMDeployment");
  }
  return name;
}

json owner_reference(const json& owner) {
  return {{"apiVersion", owner.value("apiVersion", api::kApiVersion)},
          {"kind", owner.value("kind", api::kKind)},
          {"name", owner.at("metadata").at("name")},
          {"uid", owner.at("metadata").value("uid", "")},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

json runtime_args(const RevisionRecord& revision) {
  const json& model = revision.model;
  const json& runtime = revision.runtime;
  json args = json::array({"serve", "--model", string_or(model, "uri", ""), "--model-name",
                           string_or(model, "name", ""), "--host", "$(POD_IP)", "--port",
                           std::to_string(kRuntimePort), "--max-batch",
                           std::to_string(int_or(runtime, "maxBatch", 16)), "--threads",
                           std::to_string(int_or(runtime, "threads", 0)), "--numa",
                           string_or(runtime, "numa", "bind")});
  if (int64_t context = int_or(runtime, "contextLength", 0); context > 0) {
    args.push_back("--context");
    args.push_back(std::to_string(context));
  }
  if (std::string sha = string_or(model, "sha256", ""); !sha.empty()) {
    args.push_back("--model-sha256");
    args.push_back(sha);
  }
  if (std::string tokenizer = string_or(model, "tokenizerUri", ""); !tokenizer.empty()) {
    args.push_back("--tokenizer");
    args.push_back(tokenizer);
  }
  if (auto extra = runtime.find("args"); extra != runtime.end() && extra->is_array()) {
    for (const auto& arg : *extra)
      if (arg.is_string()) args.push_back(arg);
  }
  return args;
}

json pod_manifest(const json& owner, const RevisionRecord& revision, const std::string& track,
                  int index, const PodTemplateOptions& options) {
  const json& metadata = owner.at("metadata");
  const std::string name = metadata.at("name").get<std::string>();
  const std::string label = deployment_label_value(name);
  const json& runtime = revision.runtime;
  json env = json::array(
      {{{"name", "POD_IP"},
        {"valueFrom", {{"fieldRef", {{"apiVersion", "v1"}, {"fieldPath", "status.podIP"}}}}}}});
  if (auto extra = runtime.find("env"); extra != runtime.end() && extra->is_array()) {
    for (const auto& item : *extra) env.push_back(item);
  }
  json container = {
      {"name", "runtime"},
      {"image", string_or(runtime, "image", "")},
      {"args", runtime_args(revision)},
      {"env", std::move(env)},
      {"ports",
       json::array(
           {{{"name", api::kHttpPortName}, {"containerPort", kRuntimePort}, {"protocol", "TCP"}}})},
      {"readinessProbe",
       {{"httpGet", {{"path", "/readyz"}, {"port", api::kHttpPortName}}},
        {"periodSeconds", 1},
        {"failureThreshold", 3}}},
      // A runtime that exits on a bad model says why in its last log line: the kubelet
      // copies it into the termination message, where the operator reads it.
      {"terminationMessagePolicy", "FallbackToLogsOnError"}};
  if (auto resources = runtime.find("resources");
      resources != runtime.end() && resources->is_object()) {
    container["resources"] = *resources;
  }
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", pod_name(name, revision.revision, index)},
            {"namespace", metadata.value("namespace", "default")},
            {"labels",
             {{kDeploymentLabel, label},
              {kRevisionLabel, std::to_string(revision.revision)},
              {kTrackLabel, track}}},
            {"annotations", {{api::kRevisionHashAnnotation, revision.hash}}},
            {"ownerReferences", json::array({owner_reference(owner)})}}},
          {"spec",
           {{"containers", json::array({std::move(container)})},
            {"restartPolicy", "Always"},
            {"terminationGracePeriodSeconds", options.termination_grace_seconds}}}};
}

json service_manifest(const json& owner) {
  const json& metadata = owner.at("metadata");
  const std::string name = metadata.at("name").get<std::string>();
  const std::string label = deployment_label_value(name);
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata",
           {{"name", service_name_for(name)},
            {"namespace", metadata.value("namespace", "default")},
            {"labels", {{kDeploymentLabel, label}}},
            {"ownerReferences", json::array({owner_reference(owner)})}}},
          {"spec",
           {{"selector", {{kDeploymentLabel, label}}},
            {"ports", json::array({{{"name", api::kHttpPortName},
                                    {"port", kRuntimePort},
                                    {"targetPort", api::kHttpPortName},
                                    {"protocol", "TCP"}}})}}}};
}

}  // namespace llmops::reconcilers
