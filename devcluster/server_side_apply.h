// Field ownership (metadata.managedFields, FieldsV1) and server-side apply: an applier
// owns the fields of its configuration, a field another manager owns with a different
// value is a conflict (409 with one cause per field) unless forced, and fields an
// applier stops sending are removed when nobody else owns them. Lists are atomic.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace llmops::devcluster {

// After a non-apply write by `manager`: it owns the fields it changed (taken from others).
void recordUpdate(nlohmann::json& object, const nlohmann::json& old, const std::string& manager,
                  const std::string& apiVersion);

// The object after `manager` applies `configuration` to `current` (null when absent).
// Throws ApiError 409 listing conflicts unless `force`.
nlohmann::json serverSideApply(const nlohmann::json& current, const nlohmann::json& configuration,
                               const std::string& manager, const std::string& apiVersion,
                               bool force, const std::string& group, const std::string& plural);

}  // namespace llmops::devcluster
