#include "deployment_controller.h"

#include <spdlog/spdlog.h>

#include "llmops/api/llmdeployment.h"
#include "llmops/api/status_parse.h"
#include "llmops/kube/api_error.h"
#include "llmops/reconcilers/deployment_spec.h"
#include "llmops/reconcilers/time_text.h"

namespace llmops::operator_main {

namespace {

using nlohmann::json;
using reconcilers::TimePoint;

}  // namespace

const kube::GroupVersionResource kLlmDeployments{api::kGroup, api::kVersion, api::kResource, true};
const kube::GroupVersionResource kPods{"", "v1", "pods", true};
const kube::GroupVersionResource kServices{"", "v1", "services", true};

reconcilers::ObservedPod observe_pod(const json& pod) {
  reconcilers::ObservedPod observed;
  const json& metadata = pod.at("metadata");
  observed.name = metadata.value("name", "");
  observed.revision = api::pod_revision(pod).value_or(0);  // 0: not ours, removed as a stray
  observed.track = api::pod_label(pod, api::kTrackLabel);
  observed.deleting =
      metadata.contains("deletionTimestamp") && !metadata["deletionTimestamp"].is_null();
  const json status = pod.value("status", json::object());
  observed.phase = status.value("phase", "Pending");
  observed.ready = api::pod_ready(pod);
  try {
    observed.created = reconcilers::parse_timestamp(metadata.value("creationTimestamp", ""));
  } catch (const std::invalid_argument&) {
    observed.created = TimePoint{};
  }
  for (const auto& container : status.value("containerStatuses", json::array())) {
    if (container.is_object()) observed.restarts += container.value("restartCount", 0);
  }
  observed.failure = reconcilers::pod_failure(pod);
  return observed;
}

DeploymentController::DeploymentController(std::shared_ptr<kube::KubeClient> client,
                                           kube::Informer& deployments, kube::Informer& pods,
                                           kube::Informer& services, kube::EventRecorder& events,
                                           std::shared_ptr<CanarySampler> sampler,
                                           DeploymentControllerOptions options)
    : client_(std::move(client)),
      deployments_(deployments),
      pods_(pods),
      services_(services),
      events_(events),
      sampler_(std::move(sampler)),
      options_(options) {}

void DeploymentController::ensure_service(const json& desired) {
  const std::string ns = desired["metadata"]["namespace"];
  const std::string name = desired["metadata"]["name"];
  kube::ObjectPtr current = services_.store().get(ns + "/" + name);
  if (!current) {
    try {
      client_->create(kServices, ns, desired);
      spdlog::info("event=service_created key={}/{}", ns, name);
    } catch (const kube::AlreadyExistsError&) {
      // Created by an earlier reconcile the cache has not shown yet.
    }
    return;
  }
  const json& spec = (*current)["spec"];
  const json ports = spec.value("ports", json::array());
  bool same_ports = ports.size() == desired["spec"]["ports"].size();
  for (std::size_t i = 0; same_ports && i < ports.size(); ++i) {
    const json& want = desired["spec"]["ports"][i];
    same_ports = ports[i].value("name", "") == want["name"] &&
                 ports[i].value("port", 0) == want["port"] &&
                 ports[i].value("targetPort", json()) == want["targetPort"];
  }
  const json selector = spec.value("selector", json::object());
  if (selector == desired["spec"]["selector"] && same_ports) return;
  // A merge patch only adds and replaces keys: labels someone added to the selector are
  // removed with null.
  json patched_selector = desired["spec"]["selector"];
  for (const auto& [label, value] : selector.items()) {
    if (!patched_selector.contains(label)) patched_selector[label] = nullptr;
  }
  client_->patch(kServices, ns, name, kube::PatchType::kMerge,
                 {{"spec", {{"selector", patched_selector}, {"ports", desired["spec"]["ports"]}}}});
  spdlog::info("event=service_updated key={}/{}", ns, name);
}

kube::Result DeploymentController::report_invalid_spec(
    const std::string& key, const json& deployment,
    const std::vector<reconcilers::ObservedPod>& pods, reconcilers::TimePoint now,
    const std::string& message) {
  // Said where the user looks (kubectl get/describe), once per change: the status
  // condition and an event. Not retried: only an edit of the object can fix it.
  auto invalid = reconcilers::invalid_spec_decision(
      {deployment, pods, std::nullopt, now, options_.reconcile}, message);
  if (invalid.status_changed) {
    json updated = deployment;
    updated["status"] = invalid.status_json;
    try {
      client_->update_status(kLlmDeployments, updated);
    } catch (const kube::ConflictError&) {
      return kube::Result::error("conflict writing the status of " + key);
    } catch (const kube::NotFoundError&) {
      return kube::Result::done();
    }
    events_.record(deployment, api::kEventWarning, api::kReasonInvalidSpec, message);
  }
  spdlog::warn("event=invalid_spec key={} error=\"{}\"", key, message);
  return kube::Result::terminal_error(message);
}

kube::Result DeploymentController::reconcile(const std::string& key) {
  kube::ObjectPtr object = deployments_.store().get(key);
  if (!object) {
    sampler_->forget(key);
    spdlog::info("event=observed key={} state=deleted", key);
    return kube::Result::done();  // owned pods and the Service go by garbage collection
  }
  const json& deployment = *object;
  const json& metadata = deployment["metadata"];
  spdlog::info("event=observed key={} generation={} resource_version={}", key,
               metadata.value("generation", 0), metadata.value("resourceVersion", ""));
  if (metadata.contains("deletionTimestamp")) return kube::Result::done();
  const std::string ns = metadata.value("namespace", "default");
  const std::string name = metadata.value("name", "");
  const std::string uid = metadata.value("uid", "");

  std::vector<reconcilers::ObservedPod> pods;
  std::map<std::string, std::string> pod_ips;
  for (const auto& pod : pods_.store().by_index(kOwnerIndex, uid)) {
    if (api::pod_label(*pod, api::kDeploymentLabel) != reconcilers::deployment_label_value(name)) {
      continue;
    }
    pods.push_back(observe_pod(*pod));
    const json status = pod->value("status", json::object());
    pod_ips[pods.back().name] = status.value("podIP", "");
  }
  const TimePoint now = std::chrono::system_clock::now();

  // The spec and status, read once for this reconcile; the first error is what the user sees.
  reconcilers::DeploymentSpec spec;
  reconcilers::RolloutStatus status;
  try {
    spec = reconcilers::parse_deployment_spec(deployment);
    status = reconcilers::parse_rollout_status(deployment.value("status", json::object()));
  } catch (const std::invalid_argument& error) {
    return report_invalid_spec(key, deployment, pods, now, error.what());
  }

  // An analysis sample, when one is due.
  std::optional<reconcilers::Measurement> measurement;
  std::optional<reconcilers::Seconds> wait;
  std::optional<CanaryTarget> target;
  std::optional<reconcilers::Scrape> to_commit;
  if (auto schedule = reconcilers::analysis_schedule(spec, status, now)) {
    target = CanaryTarget{key, ns, name, schedule->revision, {}};
    for (const auto& pod : pods) {
      if (pod.revision == schedule->revision && pod.ready && !pod.deleting &&
          !pod_ips[pod.name].empty()) {
        target->pod_urls[pod.name] = "http://" + pod_ips[pod.name] + ":" +
                                     std::to_string(reconcilers::kRuntimePort) + "/metrics";
      }
    }
    auto taken = sampler_->take(*target, schedule->due, spec.analysis.interval, now);
    measurement = std::move(taken.measurement);
    to_commit = std::move(taken.scrape);
    wait = taken.wait;
  } else {
    sampler_->forget(key);
  }

  reconcilers::ReconcileDecision decision;
  try {
    decision = reconcilers::reconcile_deployment(
        {deployment, pods, measurement, now, options_.reconcile}, spec, status);
  } catch (const std::invalid_argument& error) {
    // Read, but not possible to act on (a name no Service can take...).
    return report_invalid_spec(key, deployment, pods, now, error.what());
  }

  if (decision.status_changed) {
    json updated = deployment;
    updated["status"] = decision.status_json;
    try {
      client_->update_status(kLlmDeployments, updated);
    } catch (const kube::ConflictError&) {
      // The cache is behind our own last write or someone else's: read again, decide again.
      return kube::Result::error("conflict writing the status of " + key);
    } catch (const kube::NotFoundError&) {
      return kube::Result::done();
    }
    const auto& st = decision.status;
    spdlog::info(
        "event=status_written key={} phase={} stable={} canary={} weight={} step={} ready={}/{}",
        key, st.phase, st.stable_revision.value_or(0), st.canary_revision.value_or(0),
        st.canary_weight, st.current_step, st.ready_replicas, st.replicas);
  }
  if (target && to_commit) sampler_->commit(*target, std::move(*to_commit));

  ensure_service(decision.service);
  for (const auto& pod : decision.create) {
    const std::string pod_name = pod["metadata"]["name"];
    try {
      client_->create(kPods, ns, pod);
      spdlog::info("event=pod_created key={} pod={}", key, pod_name);
    } catch (const kube::AlreadyExistsError&) {
      // Deterministic names make a repeated create (informer lag, restart) a no-op.
    } catch (const kube::ApiError& error) {
      events_.record(deployment, api::kEventWarning, api::kEventFailedCreate,
                     "pod " + pod_name + ": " + error.what());
      throw;  // retried with backoff
    }
  }
  for (const auto& pod_name : decision.remove) {
    try {
      client_->remove(kPods, ns, pod_name);
      spdlog::info("event=pod_deleted key={} pod={}", key, pod_name);
    } catch (const kube::NotFoundError&) {
    }
  }
  for (const auto& relabel : decision.relabel) {
    try {
      client_->patch(kPods, ns, relabel.name, kube::PatchType::kMerge,
                     {{"metadata", {{"labels", {{api::kTrackLabel, relabel.track}}}}}});
    } catch (const kube::NotFoundError&) {
    }
  }
  for (const auto& event : decision.events) {
    spdlog::info("event=rollout key={} type={} reason={} message=\"{}\"", key, event.type,
                 event.reason, event.message);
    events_.record(deployment, event.type, event.reason, event.message);
  }

  std::optional<reconcilers::Seconds> next = decision.requeue_after;
  if (wait && (!next || *wait < *next)) next = wait;
  if (!next) return kube::Result::done();
  // A little past the moment, so that the clock has certainly reached it.
  return kube::Result::requeue_after(std::chrono::duration_cast<std::chrono::nanoseconds>(*next) +
                                     std::chrono::milliseconds(20));
}

}  // namespace llmops::operator_main
