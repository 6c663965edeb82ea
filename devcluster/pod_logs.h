// pods/log: a container's captured stdout and stderr (kubectl logs), whole or the last
// tailLines, the previous run's with previous=true, and followed (chunked, polled from
// the file) with follow=true until the run ends or the client leaves.
#pragma once

#include <memory>

#include "api_request.h"
#include "kubelet.h"
#include "object_store.h"

namespace llmops::devcluster {

// Throws ApiError for a missing pod or container (before anything is sent).
void servePodLog(ObjectStore& store, Kubelet& kubelet, const ApiRequest& request,
                 std::shared_ptr<http::ResponseWriter> writer);

}  // namespace llmops::devcluster
