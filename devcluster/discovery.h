// API discovery: the aggregated form (apidiscovery.k8s.io/v2 APIGroupDiscoveryList, sent
// when the Accept header asks for it, with its exact Content-Type) and the legacy
// documents (APIVersions, APIGroupList, APIGroup, APIResourceList).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "resource_registry.h"

namespace llmops::devcluster {

struct DiscoveryReply {
  int code = 200;
  std::string contentType = "application/json";
  nlohmann::json body;
};

// Answers /api, /apis, /apis/<g>, /api/v1 and /apis/<g>/<v>; nullopt for other paths.
std::optional<DiscoveryReply> discover(const ResourceRegistry& registry, const std::string& path,
                                       const std::string& accept, const std::string& serverAddress);

}  // namespace llmops::devcluster
