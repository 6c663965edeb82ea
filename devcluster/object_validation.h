// The checks the real apiserver makes on every write before storing: object names by
// kind (DNS-1123 label for Namespaces, DNS-1035 label for Services, DNS-1123 subdomain
// for the rest), label keys and values, annotation keys, Pod container names and resource
// quantities, and the top-level fields a built-in kind has (others are dropped, or
// rejected with fieldValidation=Strict, as the real decoder does).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "resource_registry.h"

namespace llmops::devcluster {

// Throws ApiError 422 Invalid naming every bad field.
void validateObjectMeta(const ResourceType& type, const nlohmann::json& object);
// Throws ApiError 400 for a malformed quantity (as decoding does), 422 for other problems.
void validatePodSpec(const nlohmann::json& pod);
// The name for generateName `prefix`: cut to leave room for the random suffix.
std::string generatedName(const std::string& prefix, const std::string& randomSuffix);
// Removes top-level fields a built-in kind does not define; returns their names.
// Custom resources are pruned by their schema instead (empty result).
std::vector<std::string> pruneUnknownTopLevelFields(const ResourceType& type,
                                                    nlohmann::json& object);

}  // namespace llmops::devcluster
