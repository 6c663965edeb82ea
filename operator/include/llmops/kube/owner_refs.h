// From an owned object (a Pod) back to the object that controls it (its LLMDeployment):
// the ownerReference with controller: true, as controller-runtime's EnqueueRequestForOwner.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace llmops::kube {

// The controller's "namespace/name" key when `child` has a controller ownerReference of
// the given group (from apiVersion, "" for core) and kind; nullopt otherwise.
std::optional<std::string> controller_key(const nlohmann::json& child, const std::string& group,
                                          const std::string& kind);

// An ownerReference making `owner` the controller of whatever carries it.
nlohmann::json controller_reference(const nlohmann::json& owner);

}  // namespace llmops::kube
