// Structural-schema handling of custom resources, in the API server's order: prune
// fields the schema does not know (collecting them for fieldValidation), apply defaults,
// then validate. Field paths are written as Kubernetes does: spec.steps[0].setWeight.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace llmops::devcluster {

struct SchemaCause {
  std::string reason;  // FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, ...
  std::string field;
  std::string message;
};

// Removes unknown fields below the root (apiVersion, kind and metadata are kept) and
// returns their paths.
std::vector<std::string> pruneUnknownFields(const nlohmann::json& schema, nlohmann::json& object);
// Fills defaults for absent fields, and drops nulls of non-nullable fields.
void applyDefaults(const nlohmann::json& schema, nlohmann::json& object);
// Every violation, as the causes of a 422 Invalid Status.
std::vector<SchemaCause> validateAgainstSchema(const nlohmann::json& schema,
                                               const nlohmann::json& object);

}  // namespace llmops::devcluster
