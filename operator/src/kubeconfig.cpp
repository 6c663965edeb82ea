#include "llmops/kube/kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "llmops/common/base64.h"

namespace llmops::kube {
namespace {

std::string read_file(const std::filesystem::path& path, const std::string& field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(field + ": cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string decode_base64_field(const std::string& text, const std::string& field) {
  auto decoded = llmops::base64_decode(text);
  if (!decoded) throw ConfigError(field + ": invalid base64");
  return std::move(*decoded);
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  return s.substr(start);
}

YAML::Node find_named(const YAML::Node& list, const std::string& list_name, const std::string& name,
                      const std::string& inner) {
  if (list && !list.IsSequence()) throw ConfigError(list_name + ": must be a list");
  if (list) {
    for (const auto& entry : list) {
      if (entry["name"] && entry["name"].as<std::string>() == name) {
        YAML::Node node = entry[inner];
        if (!node) return YAML::Node(YAML::NodeType::Map);
        return node;
      }
    }
  }
  throw ConfigError(list_name + ": no entry named \"" + name + "\"");
}

std::string string_field(const YAML::Node& node, const std::string& key) {
  YAML::Node value = node[key];
  if (!value || value.IsNull()) return "";
  if (!value.IsScalar()) throw ConfigError(key + ": must be a string");
  return value.as<std::string>();
}

std::filesystem::path resolve(const std::filesystem::path& base, const std::string& path) {
  std::filesystem::path p(path);
  return p.is_absolute() ? p : base / p;
}

// Reads "<name>-data" (base64) or "<name>" (file path); data wins, as in client-go.
std::string pem_field(const YAML::Node& node, const std::string& name, const std::string& where,
                      const std::filesystem::path& base) {
  std::string data = string_field(node, name + "-data");
  if (!data.empty()) return decode_base64_field(data, where + "." + name + "-data");
  std::string path = string_field(node, name);
  if (!path.empty()) return read_file(resolve(base, path), where + "." + name);
  return "";
}

}  // namespace

RestConfig parse_kubeconfig(const std::string& yaml_text, const std::filesystem::path& base_dir,
                            const std::string& context) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& error) {
    throw ConfigError(std::string("kubeconfig is not YAML: ") + error.what());
  }
  if (!root.IsMap()) throw ConfigError("kubeconfig: top level must be a mapping");
  RestConfig config;
  try {
    config.context_name = context.empty() ? string_field(root, "current-context") : context;
    if (config.context_name.empty()) {
      throw ConfigError("current-context: not set and no --context given");
    }
    YAML::Node ctx = find_named(root["contexts"], "contexts", config.context_name, "context");
    std::string cluster_name = string_field(ctx, "cluster");
    std::string user_name = string_field(ctx, "user");
    config.namespace_name = string_field(ctx, "namespace");
    if (config.namespace_name.empty()) config.namespace_name = "default";
    if (cluster_name.empty()) {
      throw ConfigError("contexts[" + config.context_name + "].cluster: not set");
    }
    YAML::Node cluster = find_named(root["clusters"], "clusters", cluster_name, "cluster");
    const std::string cwhere = "clusters[" + cluster_name + "]";
    config.server = string_field(cluster, "server");
    if (config.server.empty()) throw ConfigError(cwhere + ".server: not set");
    while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
    config.ca_pem = pem_field(cluster, "certificate-authority", cwhere, base_dir);
    config.tls_server_name = string_field(cluster, "tls-server-name");
    std::string insecure = string_field(cluster, "insecure-skip-tls-verify");
    config.insecure_skip_tls_verify = insecure == "true";
    if (!user_name.empty()) {
      YAML::Node user = find_named(root["users"], "users", user_name, "user");
      const std::string uwhere = "users[" + user_name + "]";
      config.client_cert_pem = pem_field(user, "client-certificate", uwhere, base_dir);
      config.client_key_pem = pem_field(user, "client-key", uwhere, base_dir);
      if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
        throw ConfigError(uwhere + ": client-certificate and client-key go together");
      }
      config.token = string_field(user, "token");
      std::string token_file = string_field(user, "tokenFile");
      if (!token_file.empty()) config.token_file = resolve(base_dir, token_file).string();
    }
  } catch (const YAML::Exception& error) {
    throw ConfigError(std::string("kubeconfig: ") + error.what());
  }
  return config;
}

RestConfig load_kubeconfig(const std::filesystem::path& path, const std::string& context) {
  return parse_kubeconfig(read_file(path, "--kubeconfig"), path.parent_path(), context);
}

InClusterPaths InClusterPaths::from_environment() {
  InClusterPaths paths;
  const char* dir = std::getenv("LLMOPS_SERVICE_ACCOUNT_DIR");
  if (dir != nullptr && *dir != '\0') {
    const std::filesystem::path base(dir);
    paths.token = base / "token";
    paths.ca = base / "ca.crt";
    paths.ns = base / "namespace";
  }
  return paths;
}

RestConfig in_cluster_config(const InClusterPaths& paths) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr || *host == '\0' || *port == '\0') {
    throw ConfigError("in-cluster: KUBERNETES_SERVICE_HOST/PORT are not set");
  }
  RestConfig config;
  std::string h = host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6
  config.server = "https://" + h + ":" + port;
  config.token_file = paths.token.string();
  (void)read_file(paths.token, "in-cluster token");
  config.ca_pem = read_file(paths.ca, "in-cluster ca.crt");
  std::ifstream ns(paths.ns);
  std::string name;
  if (ns >> name) config.namespace_name = trim(name);
  if (config.namespace_name.empty()) config.namespace_name = "default";
  config.context_name = "in-cluster";
  return config;
}

RestConfig load_default_config(const std::string& kubeconfig_flag, const std::string& context) {
  if (!kubeconfig_flag.empty()) return load_kubeconfig(kubeconfig_flag, context);
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    std::string first = env;
    first = first.substr(0, first.find(':'));
    return load_kubeconfig(first, context);
  }
  if (const char* host = std::getenv("KUBERNETES_SERVICE_HOST"); host != nullptr && *host) {
    return in_cluster_config();
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr) throw ConfigError("no --kubeconfig, $KUBECONFIG, in-cluster or $HOME");
  return load_kubeconfig(std::filesystem::path(home) / ".kube" / "config", context);
}

TokenSource::TokenSource(const RestConfig& config)
    : static_token_(config.token), file_(config.token_file) {}

std::string TokenSource::token() {
  std::lock_guard lock(mutex_);
  if (file_.empty()) return static_token_;
  std::error_code ec;
  auto mtime = std::filesystem::last_write_time(file_, ec);
  auto size = ec ? 0 : std::filesystem::file_size(file_, ec);
  if (ec) return cached_.empty() ? static_token_ : cached_;  // keep the last good token
  if (cached_.empty() || mtime != mtime_ || size != size_) {
    std::ifstream in(file_);
    std::ostringstream text;
    text << in.rdbuf();
    std::string fresh = trim(text.str());
    if (!fresh.empty()) {
      cached_ = fresh;
      mtime_ = mtime;
      size_ = size;
    }
  }
  return cached_.empty() ? static_token_ : cached_;
}

}  // namespace llmops::kube
