// Revisions: the hash of everything that changes what a pod serves (spec.model and
// spec.runtime), numbered in status.revisions in the order they were first seen, and the
// history kept within spec.revisionHistoryLimit.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "llmops/reconcilers/rollout_status.h"

namespace llmops::reconcilers {

// 16 hex digits of FNV-1a 64 over the canonical JSON of {model, runtime} (keys sorted),
// like the pod-template-hash of a Deployment: equal inputs, equal hash, on any machine.
std::string revision_hash(const nlohmann::json& model, const nlohmann::json& runtime);

// The revision with this hash, or nullptr.
const RevisionRecord* find_revision_by_hash(const RolloutStatus& status, const std::string& hash);

// Adds a revision numbered one past every number the status knows, so a number is never
// reused while pods labelled with it may exist. Returns its number.
int64_t add_revision(RolloutStatus& status, const std::string& hash, const nlohmann::json& model,
                     const nlohmann::json& runtime, TimePoint now);

// Drops the oldest revisions beyond `limit` (plus the ones in use), never one in `keep`,
// nor the highest number (so numbering never goes back).
void prune_revisions(RolloutStatus& status, int limit, std::initializer_list<int64_t> keep);

}  // namespace llmops::reconcilers
