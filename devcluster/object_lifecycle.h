// What the server adds to an object on its way into the store, kind by kind: system
// metadata (uid, creationTimestamp, generation), built-in defaults (Namespace phase,
// Pod status, Service clusterIP), the structural-schema pipeline of custom resources,
// and a CRD's own status (NamesAccepted, Established).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "resource_registry.h"

namespace llmops::devcluster {

enum class FieldValidation { Ignore, Warn, Strict };

struct AdmissionResult {
  std::vector<std::string> warnings;  // unknown fields under fieldValidation=Warn
};

std::string newUid();
std::string randomNameSuffix();  // generateName's five characters
std::string nowTimestamp();

// Fills system metadata and kind defaults of a new object.
void prepareForCreate(const ResourceType& type, nlohmann::json& object);
// Keeps what a client cannot change on update and bumps generation when the spec moved.
void prepareForUpdate(const ResourceType& type, const nlohmann::json& old, nlohmann::json& object);
// Prunes, defaults and validates a custom resource; throws 400/422 ApiErrors.
AdmissionResult admitCustomResource(const ResourceType& type, nlohmann::json& object,
                                    FieldValidation validation);
// Validates a CRD and writes its status conditions.
void admitCustomResourceDefinition(nlohmann::json& crd);

// Everything but metadata and status: a change here bumps metadata.generation.
bool specChanged(const nlohmann::json& old, const nlohmann::json& object);

}  // namespace llmops::devcluster
