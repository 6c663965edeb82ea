#include "local_client.h"

#include "status.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

std::string podPath(const std::string& ns, const std::string& name) {
  return "/api/v1/namespaces/" + ns + "/pods/" + name;
}

Json LocalClient::call(const std::string& method, const std::string& path, const Json& body,
                       const std::string& contentType) {
  http::Request request;
  request.method = method;
  request.target = path;
  request.headers = {{"User-Agent", userAgent_}};
  if (!body.is_null()) {
    request.body = body.dump();
    request.headers.emplace_back("Content-Type", contentType);
  }
  request.remoteAddress = "in-process";
  return api_.call(request).body;
}

std::optional<Json> LocalClient::get(const std::string& path) {
  try {
    return call("GET", path, nullptr, "");
  } catch (const ApiError& error) {
    if (error.code() == 404) return std::nullopt;
    throw;
  }
}

Json LocalClient::list(const std::string& path) {
  Json reply = call("GET", path, nullptr, "");
  return reply.value("items", Json::array());
}

Json LocalClient::create(const std::string& path, const Json& object) {
  return call("POST", path, object, "application/json");
}

Json LocalClient::update(const std::string& path, const Json& object) {
  return call("PUT", path, object, "application/json");
}

Json LocalClient::mergePatch(const std::string& path, const Json& patch) {
  return call("PATCH", path, patch, "application/merge-patch+json");
}

bool LocalClient::remove(const std::string& path, const Json& options) {
  try {
    call("DELETE", path, options, "application/json");
    return true;
  } catch (const ApiError& error) {
    if (error.code() == 404) return false;
    throw;
  }
}

}  // namespace llmops::devcluster
