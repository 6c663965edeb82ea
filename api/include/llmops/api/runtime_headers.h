// The HTTP headers between llmops-router and llmops-runtime (lower case, as HTTP/1.1
// compares them case-insensitively and HTTP/2 requires).
#pragma once

namespace llmops::api {

// Router -> client: the revision that served the request ("none" when none could).
inline constexpr const char* kRevisionHeader = "x-llmops-revision";
// Client -> router: requests with the same value stick to one revision.
inline constexpr const char* kSessionHeader = "x-llmops-session";
// Runtime -> router, on a 503: this replica is draining; retry elsewhere at once.
inline constexpr const char* kDrainingHeader = "x-llmops-draining";
// Runtime -> router: requests waiting for a batch slot, so the router can prefer the
// shorter queue.
inline constexpr const char* kQueueDepthHeader = "x-llmops-queue-depth";

}  // namespace llmops::api
