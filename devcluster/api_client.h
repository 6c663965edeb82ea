// How the devcluster's controllers and its kubelet reach an API server: paths as on the
// wire (a query string may follow), objects as JSON, failures as ApiError (the server
// answered with a Status) or another std::exception (no answer). LocalClient sends the
// requests through the devcluster's own handlers in process; RemoteClient sends them over
// HTTPS to any API server (the kubelet of `llmops-devcluster kubelet`).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace llmops::devcluster {

class ApiClient {
 public:
  virtual ~ApiClient() = default;
  // nullopt on 404.
  virtual std::optional<nlohmann::json> get(const std::string& path) = 0;
  // The list's items.
  virtual nlohmann::json list(const std::string& path) = 0;
  virtual nlohmann::json create(const std::string& path, const nlohmann::json& object) = 0;
  virtual nlohmann::json update(const std::string& path, const nlohmann::json& object) = 0;
  virtual nlohmann::json mergePatch(const std::string& path, const nlohmann::json& patch) = 0;
  // Returns false when the object was already gone.
  virtual bool remove(const std::string& path, const nlohmann::json& options) = 0;
};

// "/api/v1/namespaces/NS/pods/NAME" and friends.
std::string podPath(const std::string& ns, const std::string& name);

}  // namespace llmops::devcluster
