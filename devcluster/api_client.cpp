#include "api_client.h"

#include "status.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

std::string podPath(const std::string& ns, const std::string& name) {
  return "/api/v1/namespaces/" + ns + "/pods/" + name;
}

std::optional<Json> ApiClient::get(const std::string& path) {
  try {
    return call("GET", path, nullptr, "");
  } catch (const ApiError& error) {
    if (error.code() == 404) return std::nullopt;
    throw;
  }
}

Json ApiClient::list(const std::string& path) {
  Json reply = call("GET", path, nullptr, "");
  return reply.value("items", Json::array());
}

Json ApiClient::create(const std::string& path, const Json& object) {
  return call("POST", path, object, "application/json");
}

Json ApiClient::update(const std::string& path, const Json& object) {
  return call("PUT", path, object, "application/json");
}

Json ApiClient::mergePatch(const std::string& path, const Json& patch) {
  return call("PATCH", path, patch, "application/merge-patch+json");
}

bool ApiClient::remove(const std::string& path, const Json& options) {
  try {
    call("DELETE", path, options, "application/json");
    return true;
  } catch (const ApiError& error) {
    if (error.code() == 404) return false;
    throw;
  }
}

}  // namespace llmops::devcluster
