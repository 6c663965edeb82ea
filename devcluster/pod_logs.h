// pods/log: a container's captured stdout and stderr (kubectl logs), whole or the last
// tailLines, the previous run's with previous=true, and followed (chunked, polled from
// the file) with follow=true until the run ends or the client leaves.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "api_request.h"
#include "kubelet.h"
#include "object_store.h"

namespace llmops::devcluster {

// Throws ApiError for a missing pod or container (before anything is sent).
void servePodLog(ObjectStore& store, Kubelet& kubelet, const ApiRequest& request,
                 std::shared_ptr<http::ResponseWriter> writer);

// The pod as the API has it now (nullopt when gone): a follower ends when it changes.
using PodLookup =
    std::function<std::optional<nlohmann::json>(const std::string& ns, const std::string& name)>;
// The same for a pod already found; `params` as pods/log takes them (container, previous,
// follow, tailLines). The process kubelet's /containerLogs serves through it.
void serveContainerLog(PodLookup lookup, Kubelet& kubelet, const nlohmann::json& pod,
                       const QueryParams& params, std::shared_ptr<http::ResponseWriter> writer);

}  // namespace llmops::devcluster
