// ApiClient over HTTPS to any Kubernetes API server, through the operator library's
// transport (TLS verified against the kubeconfig's CA, client certificates, bearer tokens).
// A failure Status becomes an ApiError with the server's code, reason and message; no
// answer at all is a kube::TransportError.
#pragma once

#include <memory>

#include "api_client.h"
#include "llmops/kube/http_transport.h"

namespace llmops::devcluster {

class RemoteClient : public ApiClient {
 public:
  explicit RemoteClient(std::shared_ptr<kube::HttpTransport> transport)
      : transport_(std::move(transport)) {}

 private:
  nlohmann::json call(const std::string& method, const std::string& path,
                      const nlohmann::json& body, const std::string& contentType) override;

  std::shared_ptr<kube::HttpTransport> transport_;
};

}  // namespace llmops::devcluster
