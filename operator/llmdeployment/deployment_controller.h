// The LLMDeployment controller: reconcile(key) reads the LLMDeployment, its Pods and its
// Service from the informer caches, samples the canary when an analysis sample is due,
// asks reconcilers::reconcile_deployment what the world should be, and writes it — status
// first (status subresource, conditional on resourceVersion; a 409 is retried), then the
// Service and Pods, then Events. It returns requeue_after for the next timed thing.
#pragma once

#include <memory>
#include <string>

#include "canary_sampler.h"
#include "llmops/kube/controller.h"
#include "llmops/kube/event_recorder.h"
#include "llmops/kube/informer.h"
#include "llmops/kube/kube_client.h"
#include "llmops/reconcilers/rollout.h"

namespace llmops::operator_main {

extern const kube::GroupVersionResource kLlmDeployments;
extern const kube::GroupVersionResource kPods;
extern const kube::GroupVersionResource kServices;
// The index of the Pod informer by controller owner uid.
inline constexpr const char* kOwnerIndex = "owner";

struct DeploymentControllerOptions {
  reconcilers::ReconcileOptions reconcile;
};

class DeploymentController {
 public:
  DeploymentController(std::shared_ptr<kube::KubeClient> client, kube::Informer& deployments,
                       kube::Informer& pods, kube::Informer& services, kube::EventRecorder& events,
                       std::shared_ptr<CanarySampler> sampler, DeploymentControllerOptions options);

  kube::Result reconcile(const std::string& key);

 private:
  void ensure_service(const nlohmann::json& desired);
  // Status Degraded/InvalidSpec and a Warning event (when the status changes), then a
  // terminal error: only an edit of the object can fix `message`.
  kube::Result report_invalid_spec(const std::string& key, const nlohmann::json& deployment,
                                   const std::vector<reconcilers::ObservedPod>& pods,
                                   reconcilers::TimePoint now, const std::string& message);

  std::shared_ptr<kube::KubeClient> client_;
  kube::Informer& deployments_;
  kube::Informer& pods_;
  kube::Informer& services_;
  kube::EventRecorder& events_;
  std::shared_ptr<CanarySampler> sampler_;
  DeploymentControllerOptions options_;
};

// A Pod from the API as the reconcilers see it.
reconcilers::ObservedPod observe_pod(const nlohmann::json& pod);

}  // namespace llmops::operator_main
