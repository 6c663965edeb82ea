// The seam between the Kubernetes client and the network: one request in, one response
// out, or a streamed body for watches. The libcurl implementation lives in
// curl_transport.h; tests substitute a fake that records requests.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmops::kube {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // GET, POST, PUT, PATCH, DELETE
  std::string target;  // path and query, e.g. /api/v1/namespaces/default/pods?limit=500
  HttpHeaders headers;
  std::string body;
  // Whole-request limit; a watch uses a longer one than its server-side timeoutSeconds.
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;
  // Case-insensitive; empty when absent.
  std::string header(std::string_view name) const;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Throws TransportError when no HTTP answer came.
  virtual HttpResponse send(const HttpRequest& request) = 0;
  // Streams the body of a 2xx answer to on_data as it arrives. Returns the response
  // (with the whole body when the status is not 2xx) once the server ends the stream,
  // or early when keep_going() turns false (checked at least every 200 ms).
  // Throws TransportError when the connection fails or breaks mid-stream.
  virtual HttpResponse stream(const HttpRequest& request,
                              const std::function<void(std::string_view)>& on_data,
                              const std::function<bool()>& keep_going) = 0;
};

}  // namespace llmops::kube
