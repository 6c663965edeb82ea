// Decodes the Kubernetes protobuf bodies ("k8s\0" + runtime.Unknown) that kubectl's typed
// commands send (create namespace, configmap, secret, serviceaccount) into JSON. Other
// kinds, and malformed input, throw ApiError (415 and 400).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace llmops::devcluster {

nlohmann::json decodeKubernetesProtobuf(const std::string& body);

}  // namespace llmops::devcluster
