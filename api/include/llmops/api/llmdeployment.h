// The LLMDeployment contract in one place: its group/version/resource and kind, the labels
// and annotations on the objects it owns, the status's phases, condition types and reasons,
// and the Event reasons. The operator writes these, the router and the Argo CD health check
// read them; a name changes here or nowhere (Argo Rollouts keeps the same in one package).
#pragma once

#include <array>

namespace llmops::api {

// llmdeployments.llmops.dev/v1alpha1, namespaced (crds/llmdeployment.yaml).
inline constexpr const char* kGroup = "llmops.dev";
inline constexpr const char* kVersion = "v1alpha1";
inline constexpr const char* kApiVersion = "llmops.dev/v1alpha1";
inline constexpr const char* kResource = "llmdeployments";
inline constexpr const char* kKind = "LLMDeployment";

// Labels on the Pods and the Service an LLMDeployment owns (DESIGN.md, "Objects llmops
// creates"): the deployment's name (cut with a hash beyond 63 characters), the revision
// number and the track (stable or canary).
inline constexpr const char* kDeploymentLabel = "llmops.dev/deployment";
inline constexpr const char* kRevisionLabel = "llmops.dev/revision";
inline constexpr const char* kTrackLabel = "llmops.dev/track";
// On each Pod: the hash of spec.model + spec.runtime its revision was made from.
inline constexpr const char* kRevisionHashAnnotation = "llmops.dev/revision-hash";
// spec.traffic.router when llmops-router routes the deployment (the default when unset).
inline constexpr const char* kRouterBuiltin = "Builtin";
// The runtime container's port name; the router sends requests there.
inline constexpr const char* kHttpPortName = "http";

// status.phase.
inline constexpr const char* kPhaseHealthy = "Healthy";
inline constexpr const char* kPhaseProgressing = "Progressing";
inline constexpr const char* kPhasePaused = "Paused";
inline constexpr const char* kPhaseDegraded = "Degraded";

// status.conditions[].type and .status.
inline constexpr const char* kConditionAvailable = "Available";
inline constexpr const char* kConditionProgressing = "Progressing";
inline constexpr const char* kConditionDegraded = "Degraded";
inline constexpr const char* kConditionTrue = "True";
inline constexpr const char* kConditionFalse = "False";
inline constexpr const char* kConditionUnknown = "Unknown";

// Reasons of Available.
inline constexpr const char* kReasonMinimumReplicasAvailable = "MinimumReplicasAvailable";
inline constexpr const char* kReasonReplicasNotReady = "ReplicasNotReady";
// Reasons of Progressing=True (phase Progressing) and False (phase Healthy).
inline constexpr const char* kReasonRolloutInProgress = "RolloutInProgress";
inline constexpr const char* kReasonScaling = "Scaling";
inline constexpr const char* kReasonPodsFailing = "PodsFailing";
inline constexpr const char* kReasonRolloutCompleted = "RolloutCompleted";
// Reasons of Progressing=Unknown: the rollout is held (phase Paused).
inline constexpr const char* kReasonRolloutPaused = "RolloutPaused";
inline constexpr const char* kReasonPausedAtStep = "PausedAtStep";
inline constexpr const char* kReasonAnalysisInconclusive = "AnalysisInconclusive";
// Reason of Degraded=False.
inline constexpr const char* kReasonAsExpected = "AsExpected";
// Why the deployment is degraded: Degraded=True and Progressing=False carry it (phase
// Degraded). The first four are also Warning Event reasons.
inline constexpr const char* kReasonAnalysisFailed = "AnalysisFailed";
inline constexpr const char* kReasonAborted = "Aborted";
inline constexpr const char* kReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded";
inline constexpr const char* kReasonRollbackTargetNotFound = "RollbackTargetNotFound";
inline constexpr const char* kReasonRolledBack = "RolledBack";
inline constexpr const char* kReasonInvalidSpec = "InvalidSpec";

// Every value above by role, for checks that must cover them all (the Argo CD health test
// reads them through llmops-api-contract).
inline constexpr std::array<const char*, 4> kPhases = {kPhaseHealthy, kPhaseProgressing,
                                                       kPhasePaused, kPhaseDegraded};
inline constexpr std::array<const char*, 3> kConditionTypes = {
    kConditionAvailable, kConditionProgressing, kConditionDegraded};
inline constexpr std::array<const char*, 6> kDegradedReasons = {
    kReasonAnalysisFailed,         kReasonAborted,    kReasonProgressDeadlineExceeded,
    kReasonRollbackTargetNotFound, kReasonRolledBack, kReasonInvalidSpec};
inline constexpr std::array<const char*, 3> kPausedReasons = {
    kReasonRolloutPaused, kReasonPausedAtStep, kReasonAnalysisInconclusive};
// Every condition reason (a new one goes here too).
inline constexpr std::array<const char*, 16> kConditionReasons = {kReasonMinimumReplicasAvailable,
                                                                  kReasonReplicasNotReady,
                                                                  kReasonRolloutInProgress,
                                                                  kReasonScaling,
                                                                  kReasonPodsFailing,
                                                                  kReasonRolloutCompleted,
                                                                  kReasonRolloutPaused,
                                                                  kReasonPausedAtStep,
                                                                  kReasonAnalysisInconclusive,
                                                                  kReasonAsExpected,
                                                                  kReasonAnalysisFailed,
                                                                  kReasonAborted,
                                                                  kReasonProgressDeadlineExceeded,
                                                                  kReasonRollbackTargetNotFound,
                                                                  kReasonRolledBack,
                                                                  kReasonInvalidSpec};

// Event types and the reasons of the Events the operator records on an LLMDeployment
// (beside the degraded reasons above and PodsFailing).
inline constexpr const char* kEventNormal = "Normal";
inline constexpr const char* kEventWarning = "Warning";
inline constexpr const char* kEventRevisionCreated = "RevisionCreated";
inline constexpr const char* kEventDeployed = "Deployed";
inline constexpr const char* kEventRollbackStarted = "RollbackStarted";
inline constexpr const char* kEventCanaryStarted = "CanaryStarted";
inline constexpr const char* kEventCanaryCancelled = "CanaryCancelled";
inline constexpr const char* kEventCanarySuperseded = "CanarySuperseded";
inline constexpr const char* kEventPromotedFully = "PromotedFully";
inline constexpr const char* kEventWeightSet = "WeightSet";
inline constexpr const char* kEventStepPromoted = "StepPromoted";
inline constexpr const char* kEventAnalysisStarted = "AnalysisStarted";
inline constexpr const char* kEventUnknownMetric = "UnknownMetric";
// One per sample: "Analysis" + the verdict (AnalysisPass, AnalysisFail, AnalysisInconclusive).
inline constexpr const char* kEventAnalysisSamplePrefix = "Analysis";
inline constexpr const char* kEventAnalysisPassed = "AnalysisPassed";
inline constexpr const char* kEventPromoted = "Promoted";
inline constexpr const char* kEventFailedCreate = "FailedCreate";

}  // namespace llmops::api
