// HttpTransport over libcurl: TLS verified against the config's CA by default, client
// certificates from memory, the bearer token added per request (never logged), pooled
// easy handles sharing one connection cache so that requests reuse connections.
#pragma once

#include <memory>

#include "llmops/kube/http_transport.h"
#include "llmops/kube/kubeconfig.h"

namespace llmops::kube {

struct CurlTransportOptions {
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  std::size_t max_idle_handles = 16;
  std::string user_agent = "llmops-operator/0.1.0";
};

class CurlTransport : public HttpTransport {
 public:
  explicit CurlTransport(RestConfig config, CurlTransportOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  HttpResponse send(const HttpRequest& request) override;
  HttpResponse stream(const HttpRequest& request,
                      const std::function<void(std::string_view)>& on_data,
                      const std::function<bool()>& keep_going) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmops::kube
