// OpenAPI v3: the index (/openapi/v3) and one document per group-version with paths,
// operations tagged x-kubernetes-group-version-kind, and schemas (a CRD's own schema;
// open object schemas for built-in kinds). Patch operations list no strategic merge, so
// client-side apply merge-patches custom resources, and they declare fieldValidation so
// kubectl leaves validation to the server.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "resource_registry.h"

namespace llmops::devcluster {

nlohmann::json openApiIndex(const ResourceRegistry& registry);
// `groupVersionPath` is "api/v1" or "apis/<g>/<v>"; nullopt when not served.
std::optional<nlohmann::json> openApiDocument(const ResourceRegistry& registry,
                                              const std::string& groupVersionPath);

}  // namespace llmops::devcluster
