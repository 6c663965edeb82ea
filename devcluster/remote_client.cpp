#include "remote_client.h"

#include "status.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

Json RemoteClient::call(const std::string& method, const std::string& path, const Json& body,
                        const std::string& contentType) {
  kube::HttpRequest request;
  request.method = method;
  request.target = path;
  request.headers = {{"Accept", "application/json"}};
  if (!body.is_null()) {
    request.body = body.dump();
    request.headers.emplace_back("Content-Type", contentType);
  }
  kube::HttpResponse response = transport_->send(request);
  Json parsed = Json::parse(response.body, nullptr, false);
  if (response.status >= 200 && response.status < 300) {
    if (parsed.is_discarded()) {
      throw std::runtime_error(method + " " + path + ": the server answered " +
                               std::to_string(response.status) + " with a body that is not JSON");
    }
    return parsed;
  }
  std::string reason, message;
  if (parsed.is_object() && parsed.value("kind", "") == "Status") {
    reason = parsed.value("reason", "");
    message = parsed.value("message", "");
  }
  if (message.empty()) message = response.body.substr(0, 300);
  throw ApiError(response.status, reason.empty() ? "Unknown" : reason,
                 method + " " + path + ": " + message,
                 parsed.is_object() ? parsed.value("details", Json()) : Json());
}

}  // namespace llmops::devcluster
