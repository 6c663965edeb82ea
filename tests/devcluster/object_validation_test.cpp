// What the devcluster accepts on a write, checked in process through ApiServer::call:
// names per kind exactly as the real apiserver validates them, label values, unknown
// top-level fields of built-in kinds, Pod resource quantities, and YAML alias bombs.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "api_server.h"
#include "body_decoding.h"
#include "status.h"

namespace llmops::devcluster {
namespace {

using Json = nlohmann::json;

class InProcessApi : public ::testing::Test {
 protected:
  InProcessApi() : store_({"", 100000, 5000}), api_(store_, registry_, {}) {
    api_.bootstrap();
    std::ifstream in(LLMOPS_SOURCE_DIR "/tests/devcluster/testdata/crd.yaml");
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                   yamlToJson(text.str()).dump())
                  .code,
              201);
  }

  ApiResponse call(const std::string& method, const std::string& target, std::string body = "",
                   const std::string& contentType = "application/json") {
    http::Request request;
    request.method = method;
    request.target = target;
    request.body = std::move(body);
    request.headers = {{"User-Agent", "object-validation-test"}};
    if (!request.body.empty()) request.headers.emplace_back("Content-Type", contentType);
    return api_.call(request);
  }
  // The status code, whether the call succeeded or threw an ApiError.
  int code(const std::string& method, const std::string& target, const std::string& body = "",
           const std::string& contentType = "application/json") {
    try {
      return call(method, target, body, contentType).code;
    } catch (const ApiError& error) {
      return error.code();
    }
  }

  ObjectStore store_;
  ResourceRegistry registry_;
  ApiServer api_;
};

Json pod(const std::string& name, Json resources = Json::object()) {
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", name}}},
      {"spec",
       {{"containers", Json::array({{{"name", "c"}, {"image", "x"}, {"resources", resources}}})}}}};
}

struct NameCase {
  std::string name;
  bool podOrCustom;  // a DNS-1123 subdomain (pods, custom resources, configmaps)
  bool ns;           // a DNS-1123 label (namespaces)
  bool service;      // a DNS-1035 label (services)
};

TEST_F(InProcessApi, NamesAreValidatedPerKindAsTheApiserverDoes) {
  const std::string long63(63, 'a'), long64(64, 'a'), long253(253, 'a');
  std::string dotted253 = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                          std::string(63, 'c') + "." + std::string(61, 'd');
  const std::vector<NameCase> cases = {
      {"ok", true, true, true},
      {"a-b-1", true, true, true},
      {"1abc", true, true, false},  // a Service name starts with a letter
      {"a.b", true, false, false},  // dots only in subdomains
      {long63, true, true, true},
      {long64, true, false, false},
      {dotted253, true, false, false},
      {dotted253 + "e", false, false, false},
      {long253, true, false, false},  // subdomains limit the whole, not each label
      {long253 + "a", false, false, false},
      {"../x", false, false, false},
      {"../../../escaped2", false, false, false},
      {"a/b", false, false, false},
      {"A", false, false, false},
      {"a b", false, false, false},
      {"a\nb", false, false, false},
      {"caf\xc3\xa9", false, false, false},
      {"-a", false, false, false},
      {"a-", false, false, false},
      {"..", false, false, false},
      {"", false, false, false},
  };
  for (const auto& c : cases) {
    auto expect = [&](bool valid) { return valid ? 201 : 422; };
    EXPECT_EQ(code("POST", "/api/v1/namespaces/default/pods", pod(c.name).dump()),
              expect(c.podOrCustom))
        << "pod " << c.name;
    Json deployment = {{"apiVersion", "tests.llmops.dev/v1alpha1"},
                       {"kind", "LLMDeployment"},
                       {"metadata", {{"name", c.name}}},
                       {"spec", {{"model", {{"name", "m"}, {"uri", "file:///m.gguf"}}}}}};
    EXPECT_EQ(code("POST", "/apis/tests.llmops.dev/v1alpha1/namespaces/default/llmdeployments",
                   deployment.dump()),
              expect(c.podOrCustom))
        << "llmdeployment " << c.name;
    EXPECT_EQ(code("POST", "/api/v1/namespaces", Json{{"metadata", {{"name", c.name}}}}.dump()),
              expect(c.ns))
        << "namespace " << c.name;
    EXPECT_EQ(code("POST", "/api/v1/namespaces/default/services",
                   Json{{"metadata", {{"name", c.name}}},
                        {"spec", {{"ports", Json::array({{{"port", 80}}})}}}}
                       .dump()),
              expect(c.service))
        << "service " << c.name;
  }
  // generateName is cut so that the generated name stays a valid name.
  auto generated = call("POST", "/api/v1/namespaces/default/configmaps",
                        Json{{"metadata", {{"generateName", std::string(70, 'g') + "-"}}}}.dump());
  EXPECT_EQ(generated.code, 201);
  EXPECT_EQ(generated.body["metadata"]["name"].get<std::string>().size(), 63u);
}

TEST_F(InProcessApi, LabelValuesAndKeysAreValidated) {
  auto labelled = [](const std::string& key, const std::string& value) {
    return Json{{"metadata", {{"name", "c"}, {"labels", {{key, value}}}}}}.dump();
  };
  EXPECT_EQ(code("POST", "/api/v1/namespaces/default/configmaps",
                 labelled("llmops.dev/deployment", std::string(64, 'a'))),
            422);
  EXPECT_EQ(code("POST", "/api/v1/namespaces/default/configmaps", labelled("a b", "x")), 422);
  EXPECT_EQ(code("POST", "/api/v1/namespaces/default/configmaps", labelled("k", "-x")), 422);
  EXPECT_EQ(code("POST", "/api/v1/namespaces/default/configmaps",
                 labelled("llmops.dev/deployment", std::string(63, 'a'))),
            201);
}

TEST_F(InProcessApi, UnknownTopLevelFieldsOfBuiltInKindsAreDroppedOrRefused) {
  Json configMap = {{"metadata", {{"name", "extra"}}},
                    {"data", {{"k", "v"}}},
                    {"smuggled", std::string(1000, 'x')}};
  auto created = call("POST", "/api/v1/namespaces/default/configmaps", configMap.dump());
  EXPECT_EQ(created.code, 201);
  EXPECT_FALSE(created.body.contains("smuggled"));
  auto stored = store_.get("/configmaps", "default", "extra");
  ASSERT_TRUE(stored);
  EXPECT_FALSE(stored->contains("smuggled"));
  EXPECT_EQ((*stored)["data"]["k"], "v");
  bool warned = false;
  for (const auto& [name, value] : created.headers) {
    warned = warned || (name == "Warning" && value.find("smuggled") != std::string::npos);
  }
  EXPECT_TRUE(warned);
  configMap["metadata"]["name"] = "strict";
  EXPECT_EQ(code("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
                 configMap.dump()),
            400);
  // A merge patch cannot add one either.
  EXPECT_EQ(code("PATCH", "/api/v1/namespaces/default/configmaps/extra", R"({"smuggled":"again"})",
                 "application/merge-patch+json"),
            200);
  EXPECT_FALSE(store_.get("/configmaps", "default", "extra")->contains("smuggled"));
}

TEST_F(InProcessApi, PodResourceQuantitiesAreParsedAsTheApiserverDoes) {
  const std::string pods = "/api/v1/namespaces/default/pods";
  EXPECT_EQ(code("POST", pods, pod("lots", {{"requests", {{"cpu", "lots"}}}}).dump()), 400);
  EXPECT_EQ(code("POST", pods, pod("dots", {{"limits", {{"memory", "1.5.5Gi"}}}}).dump()), 400);
  EXPECT_EQ(code("POST", pods, pod("suffix", {{"requests", {{"cpu", "1Xi"}}}}).dump()), 400);
  EXPECT_EQ(code("POST", pods, pod("negative", {{"requests", {{"cpu", "-1"}}}}).dump()), 422);
  EXPECT_EQ(
      code("POST", pods,
           pod("inverted", {{"requests", {{"cpu", "2"}}}, {"limits", {{"cpu", "1"}}}}).dump()),
      422);
  EXPECT_EQ(code("POST", pods,
                 pod("fine", {{"requests", {{"cpu", "500m"}, {"memory", "128Mi"}}},
                              {"limits", {{"cpu", 1}, {"memory", "1e9"}}}})
                     .dump()),
            201);
  // A patch cannot sneak one in later.
  EXPECT_EQ(code("PATCH", pods + "/fine",
                 R"({"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"lots"}}}]}})",
                 "application/strategic-merge-patch+json"),
            400);
}

TEST_F(InProcessApi, YamlAliasBombIsRefusedThroughTheApi) {
  std::string body =
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\nx: &a "
      "[lol,lol,lol,lol,lol,lol,lol,lol,lol]\n";
  std::string previous = "a";
  for (char level = 'b'; level <= 'i'; ++level) {
    std::string name(1, level);
    body += "x" + name + ": &" + name + " [";
    for (int i = 0; i < 9; ++i) body += (i ? ",*" : "*") + previous;
    body += "]\n";
    previous = name;
  }
  EXPECT_EQ(code("POST", "/api/v1/namespaces/default/configmaps", body, "application/yaml"), 413);
  EXPECT_FALSE(store_.get("/configmaps", "default", "bomb"));
}

}  // namespace
}  // namespace llmops::devcluster
