// The patch formats of PATCH requests other than server-side apply: JSON merge patch
// (RFC 7386), JSON patch (RFC 6902) and the subset of strategic merge patch that Pods,
// Services and ConfigMaps need (lists merged by their merge keys, $patch directives).
// All throw ApiError: 400 for a malformed patch, 422 when it cannot apply.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace llmops::devcluster {

nlohmann::json applyMergePatch(const nlohmann::json& target, const nlohmann::json& patch);
nlohmann::json applyJsonPatch(const nlohmann::json& target, const nlohmann::json& patch);
nlohmann::json applyStrategicMergePatch(const nlohmann::json& target, const nlohmann::json& patch);

}  // namespace llmops::devcluster
