// Server-side printing: meta.k8s.io/v1 Table objects for the Accept header kubectl sends
// (printer columns of CRDs, fixed columns of the built-in kinds, relative ages), and the
// JSONPath subset printer columns and scale subresources use.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "resource_registry.h"

namespace llmops::devcluster {

// Evaluates a simple JSONPath (.a.b, [0], [*], [?(@.type=="Ready")]) to its matches.
std::vector<nlohmann::json> evaluateJsonPath(const nlohmann::json& object, const std::string& path);

// Kubernetes' HumanDuration: "42s", "5m3s", "3h", "2d5h"...
std::string humanDuration(std::chrono::seconds age);

struct TableOptions {
  bool includeFullObject = false;  // includeObject=Object rather than metadata only
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

// A Table holding `objects` (listMetadata becomes the Table's metadata).
nlohmann::json makeTable(const ResourceType& type, const std::vector<nlohmann::json>& objects,
                         const nlohmann::json& listMetadata, const TableOptions& options);

}  // namespace llmops::devcluster
