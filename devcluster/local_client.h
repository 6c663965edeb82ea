// The controllers' and kubelet's way to the API: in-process requests through the same
// handlers as HTTP (binding, status patches, preconditioned deletes), without sockets.
// Errors are ApiError exceptions, as in the request layer.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api_server.h"

namespace llmops::devcluster {

class LocalClient {
 public:
  LocalClient(ApiServer& api, std::string userAgent)
      : api_(api), userAgent_(std::move(userAgent)) {}

  // nullopt on 404.
  std::optional<nlohmann::json> get(const std::string& path);
  // The list's items.
  nlohmann::json list(const std::string& path);
  nlohmann::json create(const std::string& path, const nlohmann::json& object);
  nlohmann::json update(const std::string& path, const nlohmann::json& object);
  nlohmann::json mergePatch(const std::string& path, const nlohmann::json& patch);
  // Returns false when the object was already gone.
  bool remove(const std::string& path, const nlohmann::json& options);

 private:
  nlohmann::json call(const std::string& method, const std::string& path,
                      const nlohmann::json& body, const std::string& contentType);

  ApiServer& api_;
  std::string userAgent_;
};

// "/api/v1/namespaces/NS/pods/NAME" and friends.
std::string podPath(const std::string& ns, const std::string& name);

}  // namespace llmops::devcluster
