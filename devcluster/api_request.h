// One decoded API request on its way through the handlers, and the reply they build.
#pragma once

#include <nlohmann/json.hpp>

#include "llmops/common/http_server.h"
#include "request_info.h"
#include "resource_registry.h"

namespace llmops::devcluster {

struct ApiRequest {
  const http::Request& http;
  RequestInfo info;
  ResourceType type;
  bool wantsTable = false;         // Accept: ...;as=Table;g=meta.k8s.io
  bool includeFullObject = false;  // includeObject=Object
  std::string userAgent;
};

struct ApiResponse {
  ApiResponse(int status = 200, nlohmann::json content = nullptr, http::Headers extra = {})
      : code(status), body(std::move(content)), headers(std::move(extra)) {}
  int code;
  nlohmann::json body;
  http::Headers headers;
};

}  // namespace llmops::devcluster
