// The objects an LLMDeployment owns, as full manifests: one Pod per replica of a revision
// and the Service <name>. Labels, ports and probes are the contract the router and the
// runtime rely on (DESIGN.md, "Objects llmops creates").
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "llmops/api/llmdeployment.h"
#include "llmops/reconcilers/rollout_status.h"

namespace llmops::reconcilers {

using api::kDeploymentLabel;
using api::kRevisionLabel;
using api::kTrackLabel;
inline constexpr int kRuntimePort = 8080;

struct PodTemplateOptions {
  // Covers the runtime's drain on SIGTERM: --lame-duck-seconds (5) + --drain-seconds (30),
  // plus margin; the kubelet sends SIGKILL only after this.
  int termination_grace_seconds = 45;
};

// "<deployment>-r<revision>-<index>": deterministic, so that a create repeated after
// informer lag or an operator restart gets 409 AlreadyExists instead of a second pod. At
// most 63 characters (the pod's hostname): a longer deployment name is cut and a hash of
// it inserted before the suffix, as Kubernetes' controllers shorten generated names.
std::string pod_name(const std::string& deployment, int64_t revision, int index);

// The llmops.dev/deployment label value (and selector) for a deployment: its name, or when
// that is longer than a label value may be (63), the name cut with a hash suffix.
std::string deployment_label_value(const std::string& deployment);

// The Service's name: the deployment's, cut with a hash suffix beyond 63 characters.
// Throws std::invalid_argument when the name cannot be a Service name (a DNS-1035 label:
// starts with a letter, no dots).
std::string service_name_for(const std::string& deployment);

// The Pod for replica `index` of `revision`. `owner` is the LLMDeployment as read (its
// apiVersion, kind, metadata.name/namespace/uid make the controller ownerReference).
nlohmann::json pod_manifest(const nlohmann::json& owner, const RevisionRecord& revision,
                            const std::string& track, int index,
                            const PodTemplateOptions& options = {});

// The runtime's command line for a revision (after the image's entrypoint).
nlohmann::json runtime_args(const RevisionRecord& revision);

// Service <name> selecting every pod of the deployment, port http.
nlohmann::json service_manifest(const nlohmann::json& owner);

// The controller ownerReference for `owner`.
nlohmann::json owner_reference(const nlohmann::json& owner);

}  // namespace llmops::reconcilers
