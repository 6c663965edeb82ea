// The controllers' and kubelet's way to the API: in-process requests through the same
// handlers as HTTP (binding, status patches, preconditioned deletes), without sockets.
// Errors are ApiError exceptions, as in the request layer.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api_client.h"
#include "api_server.h"

namespace llmops::devcluster {

class LocalClient : public ApiClient {
 public:
  LocalClient(ApiServer& api, std::string userAgent)
      : api_(api), userAgent_(std::move(userAgent)) {}

 private:
  nlohmann::json call(const std::string& method, const std::string& path,
                      const nlohmann::json& body, const std::string& contentType) override;

  ApiServer& api_;
  std::string userAgent_;
};

}  // namespace llmops::devcluster
