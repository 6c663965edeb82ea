#include "api_server.h"

#include <cstdio>

#include "discovery.h"
#include "llmops/common/token_compare.h"
#include "object_lifecycle.h"
#include "openapi.h"
#include "status.h"
#include "time_format.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

http::Response jsonResponse(int code, const Json& body,
                            const std::string& contentType = "application/json") {
  return {code, {{"Content-Type", contentType}}, body.dump()};
}

std::string reasonForCode(int code) {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 404:
      return "NotFound";
    case 413:
      return "RequestEntityTooLarge";
    default:
      return code >= 500 ? "InternalError" : "BadRequest";
  }
}

}  // namespace

http::Response statusResponse(int code, const std::string& message) {
  return jsonResponse(code, failureStatus(code, reasonForCode(code), message));
}

ApiServer::ApiServer(ObjectStore& store, ResourceRegistry& registry, ApiServerOptions options)
    : store_(store),
      registry_(registry),
      options_(std::move(options)),
      collector_(store, registry),
      resources_(store, registry, collector_),
      watches_(store, options_.bookmarkInterval) {
  if (!options_.accessLogPath.empty()) {
    accessLog_.open(options_.accessLogPath, std::ios::app);
    if (!accessLog_) throw std::runtime_error("cannot open " + options_.accessLogPath);
  }
}

void ApiServer::bootstrap() {
  auto lock = store_.lock();
  resources_.registerStoredCrds();
  auto namespaces = registry_.find("", "v1", "namespaces");
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    if (store_.get("/namespaces", "", name)) continue;
    Json space = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
    prepareForCreate(*namespaces, space);
    store_.put("/namespaces", space);
  }
}

void ApiServer::handle(const http::Request& request, std::shared_ptr<http::ResponseWriter> writer) {
  const auto received = std::chrono::system_clock::now();
  RequestInfo info;
  int code = 500;
  try {
    info = parseRequestInfo(request.method, request.target);
    code = dispatch(request, info, writer);
  } catch (const ApiError& error) {
    code = error.code();
    writer->send(jsonResponse(code, error.toStatus()));
  } catch (const Json::exception& error) {
    code = 400;
    writer->send(jsonResponse(
        code, failureStatus(400, "BadRequest", std::string("malformed object: ") + error.what())));
  } catch (const std::exception& error) {
    code = 500;
    writer->send(jsonResponse(code, failureStatus(500, "InternalError", error.what())));
  }
  logAccess(request, info, code, received);
}

int ApiServer::dispatch(const http::Request& request, const RequestInfo& info,
                        std::shared_ptr<http::ResponseWriter> writer) {
  const std::string& path = info.path;
  if (path == "/healthz" || path == "/livez" || path == "/readyz") {
    writer->send({200, {{"Content-Type", "text/plain"}}, "ok"});
    return 200;
  }
  if (!options_.token.empty() &&
      !bearer_token_matches(request.header("Authorization"), options_.token)) {
    throw ApiError(401, "Unauthorized", "Unauthorized");
  }
  if (path == "/version") {
    writer->send(jsonResponse(200, {{"major", "1"},
                                    {"minor", "32"},
                                    {"gitVersion", "v1.32.0-llmops-devcluster"},
                                    {"gitCommit", "llmops"},
                                    {"gitTreeState", "clean"},
                                    {"buildDate", "2025-01-01T00:00:00Z"},
                                    {"goVersion", "go1.23"},
                                    {"compiler", "gc"},
                                    {"platform", "linux/amd64"}}));
    return 200;
  }
  if (path == "/openapi/v3" || path == "/openapi/v3/") {
    writer->send(jsonResponse(200, openApiIndex(registry_)));
    return 200;
  }
  if (path.rfind("/openapi/v3/", 0) == 0) {
    auto document = openApiDocument(registry_, path.substr(std::string("/openapi/v3/").size()));
    if (!document)
      throw ApiError(404, "NotFound", "the server could not find the requested resource");
    writer->send(jsonResponse(200, *document));
    return 200;
  }
  if (!info.isResourceRequest) {
    if (info.verb == "get") {
      auto reply = discover(registry_, path, request.header("Accept"), options_.serverAddress);
      if (reply) {
        writer->send(jsonResponse(reply->code, reply->body, reply->contentType));
        return reply->code;
      }
    }
    throw ApiError(404, "NotFound", "the server could not find the requested resource");
  }
  auto type = registry_.find(info.group, info.version, info.resource);
  if (!type) {
    throw ApiError(404, "NotFound", "the server could not find the requested resource");
  }
  ApiRequest apiRequest{request, info, *type, false, false, ""};
  const std::string accept = request.header("Accept");
  apiRequest.wantsTable = accept.find("as=Table") != std::string::npos &&
                          accept.find("g=meta.k8s.io") != std::string::npos;
  auto include = info.query.find("includeObject");
  apiRequest.includeFullObject = include != info.query.end() && include->second == "Object";
  apiRequest.userAgent = request.header("User-Agent");
  if (info.verb == "watch") {
    if (!info.subresource.empty()) throw badRequest("watch of a subresource is not supported");
    watches_.start(apiRequest, writer);
    return 200;
  }
  if (info.resource == "pods" && info.subresource == "log" && info.group.empty() &&
      info.verb == "get" && logHandler_) {
    logHandler_(apiRequest, writer);
    return 200;
  }
  ApiResponse response = resources_.handle(apiRequest);
  http::Response reply = jsonResponse(response.code, response.body);
  for (auto& header : response.headers) reply.headers.push_back(header);
  writer->send(std::move(reply));
  return response.code;
}

ApiResponse ApiServer::call(const http::Request& request) {
  RequestInfo info = parseRequestInfo(request.method, request.target);
  if (!info.isResourceRequest || info.verb == "watch") {
    throw badRequest("in-process calls serve resource requests only: " + info.path);
  }
  auto type = registry_.find(info.group, info.version, info.resource);
  if (!type) throw ApiError(404, "NotFound", "the server could not find the requested resource");
  ApiRequest apiRequest{request, info, *type, false, false, request.header("User-Agent")};
  return resources_.handle(apiRequest);
}

void ApiServer::logAccess(const http::Request& request, const RequestInfo& info, int code,
                          std::chrono::system_clock::time_point received) {
  if (!accessLog_.is_open()) return;
  // receivedAt: when the request arrived, to the microsecond (an audit log's
  // requestReceivedTimestamp), to order writes of different clients.
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(received.time_since_epoch()).count() %
      1000000;
  std::string receivedAt = formatTimestamp(received);
  char fraction[16];
  std::snprintf(fraction, sizeof fraction, ".%06lldZ", static_cast<long long>(micros));
  receivedAt.replace(receivedAt.size() - 1, 1, fraction);
  Json line = {{"time", formatTimestamp(std::chrono::system_clock::now())},
               {"receivedAt", receivedAt},
               {"sourceIP", request.remoteAddress},
               {"userAgent", request.header("User-Agent")},
               {"method", request.method},
               {"path", info.path},
               {"verb", info.verb},
               {"apiGroup", info.group},
               {"apiVersion", info.version},
               {"resource", info.resource},
               {"subresource", info.subresource},
               {"namespace", info.namespaceName},
               {"name", info.name},
               {"contentType", request.header("Content-Type")},
               {"code", code}};
  std::lock_guard lock(logMutex_);
  accessLog_ << line.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
  accessLog_.flush();
}

}  // namespace llmops::devcluster
