// The data directory's credentials: a CA and a server certificate (SANs 127.0.0.1,
// localhost and the listen address) generated with OpenSSL, a random bearer token, and the
// kubeconfig that ties them to the server's address. Generated once; a restart reuses them.
#pragma once

#include <string>

namespace llmops::devcluster {

struct TlsMaterial {
  std::string caCertificatePath;
  std::string serverCertificatePath;  // leaf followed by the CA
  std::string serverKeyPath;
  std::string token;
};

// Loads DIR's material, creating what is missing. The server certificate covers
// 127.0.0.1, localhost and `listenHost` when that is another IP address (reissued from the
// same CA when it does not yet). Throws std::runtime_error on failure.
TlsMaterial ensureTlsMaterial(const std::string& dataDir,
                              const std::string& listenHost = "127.0.0.1");

// Writes DIR/kubeconfig (atomically) for https://<host>:<port>.
void writeKubeconfig(const std::string& dataDir, const TlsMaterial& material,
                     const std::string& host, int port);

}  // namespace llmops::devcluster
