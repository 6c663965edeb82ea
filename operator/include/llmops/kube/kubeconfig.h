// Where the API server is and how to authenticate to it: from a kubeconfig file
// (clusters, users, contexts, current-context) or from the in-cluster service account.
// Everything is resolved to bytes in memory (PEMs, token) except token files, which are
// re-read when they change so that rotated service-account tokens keep working.
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>

namespace llmops::kube {

struct RestConfig {
  std::string server;  // https://host:port (no trailing slash)
  std::string ca_pem;  // empty: the system trust store
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;       // static bearer token
  std::string token_file;  // re-read on change; wins over token when set
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;
  std::string namespace_name;  // the context's namespace ("default" when unset)
  std::string context_name;    // for logs
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses kubeconfig text. `base_dir` resolves relative file paths (the kubeconfig's own
// directory, as kubectl does). `context` overrides current-context when non-empty.
// Throws ConfigError naming the field at fault.
RestConfig parse_kubeconfig(const std::string& yaml_text, const std::filesystem::path& base_dir,
                            const std::string& context = "");
RestConfig load_kubeconfig(const std::filesystem::path& path, const std::string& context = "");

struct InClusterPaths {
  std::filesystem::path token = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::filesystem::path ca = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::filesystem::path ns = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
  // The files in $LLMOPS_SERVICE_ACCOUNT_DIR when it is set (the process kubelet of
  // `llmops-devcluster kubelet` writes them there: its pods have no mount namespace),
  // else the standard mount above.
  static InClusterPaths from_environment();
};
// From KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT and the service-account files.
// Throws ConfigError when not running in a cluster.
RestConfig in_cluster_config(const InClusterPaths& paths = InClusterPaths::from_environment());

// The --kubeconfig flag, else $KUBECONFIG (first entry), else in-cluster when
// KUBERNETES_SERVICE_HOST is set, else ~/.kube/config.
RestConfig load_default_config(const std::string& kubeconfig_flag, const std::string& context);

// Supplies the bearer token, re-reading the token file when its mtime or size changes.
class TokenSource {
 public:
  explicit TokenSource(const RestConfig& config);
  // Empty when the config has no token. Thread-safe.
  std::string token();

 private:
  std::mutex mutex_;
  std::string static_token_;
  std::filesystem::path file_;
  std::string cached_;
  std::filesystem::file_time_type mtime_{};
  std::uintmax_t size_ = 0;
};

}  // namespace llmops::kube
