#include "service_account_volume.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "status.h"
#include "time_format.h"

namespace llmops::devcluster {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

// Answers TokenRequests and ConfigMap reads the way a real API server does, and records
// what was asked.
class FakeApi : public ApiClient {
 public:
  std::map<std::string, Json> objects;
  std::vector<std::pair<std::string, Json>> created;
  std::string expiration = "2030-01-01T00:00:00Z";
  bool forbidTokens = false;

  Json call(const std::string& method, const std::string& path, const Json& body,
            const std::string&) override {
    if (method == "GET") {
      auto found = objects.find(path);
      if (found == objects.end()) throw ApiError(404, "NotFound", path + " not found");
      return found->second;
    }
    if (method == "POST") {
      created.emplace_back(path, body);
      if (forbidTokens) throw ApiError(403, "Forbidden", "serviceaccounts/token is forbidden");
      return {{"status",
               {{"token", "token-" + std::to_string(created.size())},
                {"expirationTimestamp", expiration}}}};
    }
    return body;
  }
};

// The pod a real API server's ServiceAccount admission makes of a plain one.
Json admittedPod() {
  Json volume = {
      {"name", "kube-api-access-x1"},
      {"projected",
       {{"sources",
         Json::array(
             {{{"serviceAccountToken", {{"expirationSeconds", 3607}, {"path", "token"}}}},
              {{"configMap",
                {{"name", "kube-root-ca.crt"},
                 {"items", Json::array({{{"key", "ca.crt"}, {"path", "ca.crt"}}})}}}},
              {{"downwardAPI",
                {{"items",
                  Json::array({{{"path", "namespace"},
                                {"fieldRef", {{"fieldPath", "metadata.namespace"}}}}})}}}}})}}}};
  return {{"metadata", {{"name", "op-1"}, {"namespace", "team"}, {"uid", "u-1"}}},
          {"spec",
           {{"serviceAccountName", "robot"},
            {"volumes", Json::array({volume})},
            {"containers",
             Json::array({{{"name", "c"},
                           {"volumeMounts",
                            Json::array({{{"name", "kube-api-access-x1"},
                                          {"mountPath", kServiceAccountMountPath}}})}}})}}}};
}

std::string read(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class ServiceAccountVolumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sa-volume-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    api_.objects["/api/v1/namespaces/team/configmaps/kube-root-ca.crt"] = {
        {"data", {{"ca.crt", "CLUSTER-CA"}}}};
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  FakeApi api_;
};

TEST_F(ServiceAccountVolumeTest, FindsTheVolumeMountedAtTheServiceAccountPath) {
  Json pod = admittedPod();
  ASSERT_NE(serviceAccountVolume(pod), nullptr);
  EXPECT_EQ((*serviceAccountVolume(pod))["name"], "kube-api-access-x1");
  pod["spec"]["containers"][0]["volumeMounts"][0]["mountPath"] = "/elsewhere";
  EXPECT_EQ(serviceAccountVolume(pod), nullptr);
  EXPECT_EQ(serviceAccountVolume({{"spec", {{"containers", Json::array()}}}}), nullptr);
}

TEST_F(ServiceAccountVolumeTest, WritesTokenCaAndNamespaceWithABoundTokenRequest) {
  const Json pod = admittedPod();
  const auto now = Clock::now();
  api_.expiration = formatTimestamp(now + std::chrono::seconds(1000));
  auto refresh = projectServiceAccountVolume(api_, pod, *serviceAccountVolume(pod), dir_, now);
  EXPECT_EQ(read(dir_ / "token"), "token-1");
  EXPECT_EQ(read(dir_ / "ca.crt"), "CLUSTER-CA");
  EXPECT_EQ(read(dir_ / "namespace"), "team");
  EXPECT_EQ(fs::status(dir_ / "token").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  ASSERT_EQ(api_.created.size(), 1u);
  EXPECT_EQ(api_.created[0].first, "/api/v1/namespaces/team/serviceaccounts/robot/token");
  const Json& spec = api_.created[0].second["spec"];
  EXPECT_EQ(spec["expirationSeconds"], 3607);
  EXPECT_EQ(spec["boundObjectRef"]["kind"], "Pod");
  EXPECT_EQ(spec["boundObjectRef"]["name"], "op-1");
  EXPECT_EQ(spec["boundObjectRef"]["uid"], "u-1");
  EXPECT_FALSE(spec.contains("audiences"));  // the API server's own audience
  // Renewed at 80% of the lifetime the server granted (1000 s), as the kubelet does.
  auto ahead = std::chrono::duration_cast<std::chrono::seconds>(refresh - now).count();
  EXPECT_GE(ahead, 790);
  EXPECT_LE(ahead, 800);
  // A renewal replaces the token file.
  projectServiceAccountVolume(api_, pod, *serviceAccountVolume(pod), dir_, refresh);
  EXPECT_EQ(read(dir_ / "token"), "token-2");
}

TEST_F(ServiceAccountVolumeTest, RefusalsAndBadVolumesAreErrors) {
  Json pod = admittedPod();
  api_.forbidTokens = true;
  EXPECT_THROW(
      projectServiceAccountVolume(api_, pod, *serviceAccountVolume(pod), dir_, Clock::now()),
      ApiError);
  api_.forbidTokens = false;
  api_.objects.clear();  // no kube-root-ca.crt yet
  EXPECT_THROW(
      projectServiceAccountVolume(api_, pod, *serviceAccountVolume(pod), dir_, Clock::now()),
      std::runtime_error);
  pod = admittedPod();
  pod["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]["path"] = "../escape";
  EXPECT_THROW(
      projectServiceAccountVolume(api_, pod, *serviceAccountVolume(pod), dir_, Clock::now()),
      std::runtime_error);
  EXPECT_FALSE(fs::exists(dir_.parent_path() / "escape"));
  pod = admittedPod();
  pod["spec"]["volumes"][0]["projected"]["sources"] = Json::array({{{"secret", {{"name", "s"}}}}});
  EXPECT_THROW(
      projectServiceAccountVolume(api_, pod, *serviceAccountVolume(pod), dir_, Clock::now()),
      std::runtime_error);
}

}  // namespace
}  // namespace llmops::devcluster
