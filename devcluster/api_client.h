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
  std::optional<nlohmann::json> get(const std::string& path);
  // The list's items.
  nlohmann::json list(const std::string& path);
  nlohmann::json create(const std::string& path, const nlohmann::json& object);
  nlohmann::json update(const std::string& path, const nlohmann::json& object);
  nlohmann::json mergePatch(const std::string& path, const nlohmann::json& patch);
  // Returns false when the object was already gone.
  bool remove(const std::string& path, const nlohmann::json& options);

 protected:
  // One request: the reply's JSON on success, ApiError for a failure Status. A null
  // `body` sends none.
  virtual nlohmann::json call(const std::string& method, const std::string& path,
                              const nlohmann::json& body, const std::string& contentType) = 0;
};

// "/api/v1/namespaces/NS/pods/NAME" and friends.
std::string podPath(const std::string& ns, const std::string& name);

}  // namespace llmops::devcluster
