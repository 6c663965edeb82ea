#include "llmops/kube/kubeconfig.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace llmops::kube {
namespace {

namespace fs = std::filesystem;

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kubeconfig_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  fs::path dir_;
};

// "ca-pem" base64 is Y2EtcGVt; "cert-pem" is Y2VydC1wZW0=; "key-pem" is a2V5LXBlbQ==.
constexpr const char* kConfig = R"(apiVersion: v1
kind: Config
clusters:
- name: data
  cluster:
    server: https://data.example:6443/
    certificate-authority-data: Y2EtcGVt
- name: files
  cluster:
    server: https://files.example
    certificate-authority: ca.crt
    tls-server-name: api.internal
- name: insecure
  cluster:
    server: https://insecure.example
    insecure-skip-tls-verify: true
users:
- name: certs-data
  user:
    client-certificate-data: Y2VydC1wZW0=
    client-key-data: a2V5LXBlbQ==
- name: certs-files
  user:
    client-certificate: client.crt
    client-key: /ABSOLUTE/client.key
- name: token
  user:
    token: s3cr3t
- name: token-file
  user:
    tokenFile: token.txt
contexts:
- name: a
  context: {cluster: data, user: certs-data, namespace: team-a}
- name: b
  context: {cluster: files, user: certs-files}
- name: c
  context: {cluster: insecure, user: token}
- name: d
  context: {cluster: data, user: token-file}
current-context: a
)";

std::string config_text(const fs::path& dir) {
  std::string text = kConfig;
  text.replace(text.find("/ABSOLUTE"), 9, dir.string());
  return text;
}

TEST_F(KubeconfigTest, CurrentContextWithInlineData) {
  RestConfig config = parse_kubeconfig(config_text(dir_), dir_);
  EXPECT_EQ(config.context_name, "a");
  EXPECT_EQ(config.server, "https://data.example:6443");  // trailing slash dropped
  EXPECT_EQ(config.ca_pem, "ca-pem");
  EXPECT_EQ(config.client_cert_pem, "cert-pem");
  EXPECT_EQ(config.client_key_pem, "key-pem");
  EXPECT_EQ(config.namespace_name, "team-a");
  EXPECT_FALSE(config.insecure_skip_tls_verify);
}

TEST_F(KubeconfigTest, ContextOverrideWithFilesRelativeAndAbsolute) {
  write("ca.crt", "ca-from-file");
  write("client.crt", "cert-from-file");
  write("client.key", "key-from-file");
  RestConfig config = parse_kubeconfig(config_text(dir_), dir_, "b");
  EXPECT_EQ(config.server, "https://files.example");
  EXPECT_EQ(config.ca_pem, "ca-from-file");
  EXPECT_EQ(config.client_cert_pem, "cert-from-file");
  EXPECT_EQ(config.client_key_pem, "key-from-file");
  EXPECT_EQ(config.tls_server_name, "api.internal");
  EXPECT_EQ(config.namespace_name, "default");
}

TEST_F(KubeconfigTest, TokenAndInsecure) {
  RestConfig config = parse_kubeconfig(config_text(dir_), dir_, "c");
  EXPECT_EQ(config.token, "s3cr3t");
  EXPECT_TRUE(config.insecure_skip_tls_verify);
  EXPECT_TRUE(config.ca_pem.empty());
}

TEST_F(KubeconfigTest, TokenFileIsReReadWhenItChanges) {
  write("token.txt", "first\n");
  RestConfig config = parse_kubeconfig(config_text(dir_), dir_, "d");
  EXPECT_EQ(config.token_file, (dir_ / "token.txt").string());
  TokenSource tokens(config);
  EXPECT_EQ(tokens.token(), "first");
  write("token.txt", "second-rotated\n");  // a different size: seen even at equal mtime
  EXPECT_EQ(tokens.token(), "second-rotated");
}

TEST_F(KubeconfigTest, LoadResolvesRelativeToTheFile) {
  write("ca.crt", "ca-from-file");
  write("client.crt", "c");
  write("client.key", "k");
  write("config", config_text(dir_));
  RestConfig config = load_kubeconfig(dir_ / "config", "b");
  EXPECT_EQ(config.ca_pem, "ca-from-file");
}

struct BadCase {
  const char* name;
  std::string text;
  std::string context;
  std::string expected;  // in the message
};

TEST_F(KubeconfigTest, ErrorsNameTheField) {
  std::vector<BadCase> cases = {
      {"not yaml", "{{{", "", "not YAML"},
      {"no current context", "clusters: []\n", "", "current-context"},
      {"unknown context", config_text(dir_), "zzz", "contexts: no entry named \"zzz\""},
      {"missing ca file", config_text(dir_), "b", "certificate-authority"},
      {"no server",
       "clusters: [{name: x, cluster: {}}]\ncontexts: [{name: c, context: {cluster: x}}]\n"
       "current-context: c\n",
       "", "clusters[x].server"},
      {"bad base64",
       "clusters: [{name: x, cluster: {server: 'https://a', certificate-authority-data: '*'}}]\n"
       "contexts: [{name: c, context: {cluster: x}}]\ncurrent-context: c\n",
       "", "certificate-authority-data"},
      {"cert without key",
       "clusters: [{name: x, cluster: {server: 'https://a'}}]\n"
       "users: [{name: u, user: {client-certificate-data: Y2VydC1wZW0=}}]\n"
       "contexts: [{name: c, context: {cluster: x, user: u}}]\ncurrent-context: c\n",
       "", "client-key"},
  };
  for (const auto& bad : cases) {
    try {
      parse_kubeconfig(bad.text, dir_, bad.context);
      ADD_FAILURE() << bad.name << ": no error";
    } catch (const ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find(bad.expected), std::string::npos)
          << bad.name << ": " << error.what();
    }
  }
}

TEST_F(KubeconfigTest, InClusterFromServiceAccountFiles) {
  write("token", "sa-token\n");
  write("ca.crt", "cluster-ca");
  write("namespace", "llmops-system\n");
  ::setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  RestConfig config = in_cluster_config({dir_ / "token", dir_ / "ca.crt", dir_ / "namespace"});
  EXPECT_EQ(config.server, "https://10.0.0.1:443");
  EXPECT_EQ(config.ca_pem, "cluster-ca");
  EXPECT_EQ(config.namespace_name, "llmops-system");
  TokenSource tokens(config);
  EXPECT_EQ(tokens.token(), "sa-token");
  ::setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  EXPECT_EQ(in_cluster_config({dir_ / "token", dir_ / "ca.crt", dir_ / "namespace"}).server,
            "https://[fd00::1]:443");
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_THROW(in_cluster_config({dir_ / "token", dir_ / "ca.crt", dir_ / "namespace"}),
               ConfigError);
}

TEST_F(KubeconfigTest, InClusterFilesFromTheServiceAccountDirVariable) {
  write("token", "dir-token\n");
  write("ca.crt", "dir-ca");
  write("namespace", "team-a\n");
  ::setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
  ::setenv("LLMOPS_SERVICE_ACCOUNT_DIR", dir_.c_str(), 1);
  InClusterPaths paths = InClusterPaths::from_environment();
  EXPECT_EQ(paths.token, dir_ / "token");
  RestConfig config = in_cluster_config();
  EXPECT_EQ(config.server, "https://127.0.0.1:6443");
  EXPECT_EQ(config.ca_pem, "dir-ca");
  EXPECT_EQ(config.namespace_name, "team-a");
  EXPECT_EQ(TokenSource(config).token(), "dir-token");
  ::unsetenv("LLMOPS_SERVICE_ACCOUNT_DIR");
  EXPECT_EQ(InClusterPaths::from_environment().token,
            "/var/run/secrets/kubernetes.io/serviceaccount/token");
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
}

}  // namespace
}  // namespace llmops::kube
