// The API server's front door: bearer-token authentication, routing of every request
// (version, health, discovery, OpenAPI, resources, watches), Status replies for every
// error, and one access-log line (JSON) per request.
#pragma once

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "garbage_collector.h"
#include "llmops/common/http_server.h"
#include "object_store.h"
#include "resource_handlers.h"
#include "resource_registry.h"
#include "watch_handler.h"

namespace llmops::devcluster {

struct ApiServerOptions {
  std::string token;          // required bearer token; empty disables authentication
  std::string accessLogPath;  // empty: no access log
  std::string serverAddress;  // host:port, for legacy discovery
  std::chrono::milliseconds bookmarkInterval{5000};
};

class ApiServer {
 public:
  ApiServer(ObjectStore& store, ResourceRegistry& registry, ApiServerOptions options);

  // Creates the default namespaces and registers stored CRDs.
  void bootstrap();
  void handle(const http::Request& request, std::shared_ptr<http::ResponseWriter> writer);
  void setServerAddress(const std::string& address) { options_.serverAddress = address; }
  // Serves a resource request (no watch) made inside the process by the controllers
  // and the kubelet, with the same semantics as over HTTP; throws ApiError.
  ApiResponse call(const http::Request& request);
  // The namespace controller's step: empties Terminating namespaces a batch at a time
  // (other requests are served between batches); true while work is left.
  bool finalizeNamespaces(std::size_t batch) { return collector_.finalizeNamespaces(batch); }
  // Serves pods/log (set before serving; the kubelet keeps the logs).
  void setLogHandler(
      std::function<void(const ApiRequest&, std::shared_ptr<http::ResponseWriter>)> handler) {
    logHandler_ = std::move(handler);
  }

 private:
  struct AccessRecord;
  int dispatch(const http::Request& request, const RequestInfo& info,
               std::shared_ptr<http::ResponseWriter> writer);
  void logAccess(const http::Request& request, const RequestInfo& info, int code,
                 std::chrono::system_clock::time_point received);

  ObjectStore& store_;
  ResourceRegistry& registry_;
  ApiServerOptions options_;
  GarbageCollector collector_;
  ResourceHandlers resources_;
  WatchHandler watches_;
  std::function<void(const ApiRequest&, std::shared_ptr<http::ResponseWriter>)> logHandler_;
  std::mutex logMutex_;
  std::ofstream accessLog_;
};

// A JSON reply carrying a Status for `code` (used for errors the HTTP layer makes).
http::Response statusResponse(int code, const std::string& message);

}  // namespace llmops::devcluster
