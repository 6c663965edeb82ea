// Conditions are data, written in one place: set_condition keeps lastTransitionTime when
// the status (True/False/Unknown) does not change, and stamps observedGeneration so that
// `kubectl wait --for=condition=Available` waits for the current spec.
#pragma once

#include <string>
#include <vector>

#include "llmops/reconcilers/rollout_status.h"

namespace llmops::reconcilers {

void set_condition(std::vector<Condition>& conditions, const std::string& type,
                   const std::string& status, const std::string& reason, const std::string& message,
                   int64_t generation, TimePoint now);

}  // namespace llmops::reconcilers
