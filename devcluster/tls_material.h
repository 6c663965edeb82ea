// The data directory's credentials: a CA and a server certificate (SANs 127.0.0.1 and
// localhost) generated with OpenSSL, a random bearer token, and the kubeconfig that
// ties them to the server's address. Generated once; a restart reuses them.
#pragma once

#include <string>

namespace llmops::devcluster {

struct TlsMaterial {
  std::string caCertificatePath;
  std::string serverCertificatePath;  // leaf followed by the CA
  std::string serverKeyPath;
  std::string token;
};

// Loads DIR's material, creating what is missing. Throws std::runtime_error on failure.
TlsMaterial ensureTlsMaterial(const std::string& dataDir);

// Writes DIR/kubeconfig (atomically) for https://<host>:<port>.
void writeKubeconfig(const std::string& dataDir, const TlsMaterial& material,
                     const std::string& host, int port);

}  // namespace llmops::devcluster
