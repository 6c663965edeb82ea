// Decodes request bodies: JSON, or YAML (apply-patch+yaml, application/yaml) converted to
// JSON with YAML 1.2 core-schema scalars. Malformed input throws ApiError 400.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace llmops::devcluster {

nlohmann::json decodeBody(const std::string& body, const std::string& contentType);
nlohmann::json yamlToJson(const std::string& text);

}  // namespace llmops::devcluster
