// Watch streams: a 200 chunked response with one JSON event per line (ADDED, MODIFIED,
// DELETED, BOOKMARK, ERROR), filtered by namespace, name and selectors (an object that
// starts or stops matching is ADDED or DELETED), ended by timeoutSeconds or 410 Expired.
#pragma once

#include <chrono>
#include <memory>

#include "api_request.h"
#include "object_store.h"

namespace llmops::devcluster {

class WatchHandler {
 public:
  WatchHandler(ObjectStore& store, std::chrono::milliseconds bookmarkInterval)
      : store_(store), bookmarkInterval_(bookmarkInterval) {}

  // Throws ApiError for malformed parameters before anything is streamed.
  void start(const ApiRequest& request, std::shared_ptr<http::ResponseWriter> writer);

 private:
  ObjectStore& store_;
  std::chrono::milliseconds bookmarkInterval_;
};

}  // namespace llmops::devcluster
