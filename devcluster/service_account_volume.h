// The volume a real API server's ServiceAccount admission adds to each pod
// (kube-api-access-<x>, mounted at /var/run/secrets/kubernetes.io/serviceaccount): a
// projected volume of a service-account token bound to the pod (TokenRequest API), the
// cluster CA (ConfigMap kube-root-ca.crt) and the namespace (downward API). Processes have
// no mount namespace here, so the kubelet writes the files to a directory of the pod and
// names it in LLMOPS_SERVICE_ACCOUNT_DIR, which llmops' in-cluster config reads.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "api_client.h"

namespace llmops::devcluster {

inline constexpr const char* kServiceAccountMountPath =
    "/var/run/secrets/kubernetes.io/serviceaccount";
inline constexpr const char* kServiceAccountDirEnv = "LLMOPS_SERVICE_ACCOUNT_DIR";

// The projected volume some container mounts at kServiceAccountMountPath; null when none.
const nlohmann::json* serviceAccountVolume(const nlohmann::json& pod);

// Writes the projected volume's files (serviceAccountToken, configMap and downwardAPI
// sources; others are refused) into `dir`, each replaced atomically, the token with mode
// 0600. Returns when the token should be requested again: after 80% of its lifetime, as
// the kubelet does. Throws ApiError (the API refused) or std::runtime_error.
std::chrono::system_clock::time_point projectServiceAccountVolume(
    ApiClient& client, const nlohmann::json& pod, const nlohmann::json& volume,
    const std::string& dir, std::chrono::system_clock::time_point now);

}  // namespace llmops::devcluster
