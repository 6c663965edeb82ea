#include "local_client.h"

#include "status.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

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

}  // namespace llmops::devcluster
