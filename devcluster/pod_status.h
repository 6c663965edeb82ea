// A Pod's status as the kubelet reports it, computed from what it runs: phase,
// conditions (PodScheduled, Initialized, ContainersReady, Ready; transition times kept
// while a condition holds), podIP and containerStatuses with states and restart counts.
#pragma once

#include <nlohmann/json.hpp>

#include "pod_runtime.h"

namespace llmops::devcluster {

std::string podPhase(const nlohmann::json& pod, const PodRun& run);
nlohmann::json podStatus(const nlohmann::json& pod, const PodRun& run, Clock::time_point now);

}  // namespace llmops::devcluster
