// The LLMDeployment reconciler's decision: from the resource (spec and the status the last
// reconcile wrote), the Pods it owns, an analysis measurement and `now`, what the world
// should become — the new status, the Pods to create and delete, the Service, the Events
// and when to look again. Pure: no network, no clock, no memory between calls; feeding the
// produced status back in gives the same decision, which is what lets a restarted
// operator resume a rollout mid-way.
//
// Precedence (DESIGN.md): spec.rollbackTo names the desired revision when set; otherwise
// the revision of spec.model + spec.runtime. Desired == stable cancels any canary at once;
// a desired revision that was stable before (or named by rollbackTo) skips the steps; a new
// one starts them at 0. abort and promote act only while their revision is the canary.
//
// Traffic safety: stable keeps spec.replicas pods throughout; a setWeight reaches
// status.traffic only once the canary has the ready pods to carry it; completion switches
// 100% once the canary has spec.replicas ready pods. A revision leaving status.traffic
// keeps its pods until status.scaleDownAt, and never loses them in the reconcile that
// removed its traffic, so the router has moved away and streams have drained first.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "llmops/reconcilers/canary_metrics.h"
#include "llmops/reconcilers/deployment_spec.h"
#include "llmops/reconcilers/pod_template.h"
#include "llmops/reconcilers/replica_plan.h"
#include "llmops/reconcilers/rollout_status.h"

namespace llmops::reconcilers {

struct ReconcileOptions {
  // How long pods of a revision that left the traffic keep running (Argo's
  // scaleDownDelaySeconds), after a promotion, an abort or a cancelled canary.
  Seconds scale_down_delay{30};
  PodTemplateOptions pod;
};

struct RolloutEvent {
  std::string type;  // Normal, Warning
  std::string reason;
  std::string message;
};

struct PodRelabel {
  std::string name;
  std::string track;  // the llmops.dev/track value the pod should carry
};

struct ReconcileInput {
  nlohmann::json deployment;  // the LLMDeployment as read: metadata, spec, status
  std::vector<ObservedPod> pods;
  // A sample for the running analysis step, taken when analysis_schedule() said it was due;
  // ignored otherwise.
  std::optional<Measurement> measurement;
  TimePoint now;
  ReconcileOptions options;
};

struct ReconcileDecision {
  RolloutStatus status;
  nlohmann::json status_json;
  bool status_changed = false;         // status_json differs from what was read
  std::vector<nlohmann::json> create;  // full Pod manifests
  std::vector<std::string> remove;     // Pod names
  std::vector<PodRelabel> relabel;
  nlohmann::json service;  // the Service manifest to ensure
  std::vector<RolloutEvent> events;
  std::optional<Seconds> requeue_after;  // the next timed thing (pause, sample, scale-down,
                                         // deadline); none: wait for a change
};

// Throws std::invalid_argument for a spec it cannot read (naming the field).
ReconcileDecision reconcile_deployment(const ReconcileInput& input);
// The same with input.deployment's spec and status already parsed (parse_deployment_spec,
// parse_rollout_status), for a caller that read them once for several decisions.
ReconcileDecision reconcile_deployment(const ReconcileInput& input, const DeploymentSpec& spec,
                                       const RolloutStatus& status);

// For a spec reconcile_deployment() refused with `message`: the status as read with phase
// Degraded and the conditions Degraded=True / Progressing=False, reason InvalidSpec, so
// that `kubectl get llmd` shows why; no pods, no Service. Fixing the spec clears it.
ReconcileDecision invalid_spec_decision(const ReconcileInput& input, const std::string& message);

// When the running analysis step wants its next sample, and of which revision: the
// operator scrapes the canary pods then and passes the measurement in. None when no
// analysis step is running (no canary, paused, approved by promote, aborted...). An
// analysis step the status does not show yet starts now.
struct AnalysisSchedule {
  int64_t revision = 0;
  TimePoint due;
};
std::optional<AnalysisSchedule> analysis_schedule(const nlohmann::json& deployment, TimePoint now);
std::optional<AnalysisSchedule> analysis_schedule(const DeploymentSpec& spec,
                                                  const RolloutStatus& status, TimePoint now);

// Canary pods for a weight: in proportion to spec.replicas, at least one.
int canary_pods_for(int weight, int replicas);

}  // namespace llmops::reconcilers
