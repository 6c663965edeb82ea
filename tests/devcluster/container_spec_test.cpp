#include "container_spec.h"

#include <gtest/gtest.h>

namespace llmops::devcluster {
namespace {

using Json = nlohmann::json;

TEST(ContainerSpec, ImageNameIsTheLastPathComponentWithoutTag) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"python", "python"},
      {"python:3.12", "python"},
      {"docker.io/library/python:3", "python"},
      {"registry.example:5000/team/llmops-runtime:0.1.0", "llmops-runtime"},
      {"ghcr.io/x/llmops-router@sha256:abcd", "llmops-router"}};
  for (const auto& [image, name] : cases) EXPECT_EQ(imageName(image), name) << image;
}

TEST(ContainerSpec, ResolvesMappedImagesAndExplainsMisses) {
  ImageResolver resolver("/nonexistent/devcluster", {{"python", "/bin/sh"}});
  std::string why;
  EXPECT_EQ(resolver.resolve("docker.io/library/python:3", why), "/bin/sh");
  EXPECT_FALSE(resolver.resolve("redis:7", why));
  EXPECT_NE(why.find("--image-map redis=PATH"), std::string::npos) << why;
  EXPECT_FALSE(resolver.resolve("registry.example/llmops-runtime:1", why));
  EXPECT_NE(why.find("node-runtime/llmops-runtime"), std::string::npos) << why;
}

TEST(ContainerSpec, ExpandsVariablesAsKubernetesDoes) {
  const std::map<std::string, std::string> vars = {{"POD_IP", "127.1.2.3"}, {"PORT", "80"}};
  EXPECT_EQ(expandVariables("--host=$(POD_IP):$(PORT)", vars), "--host=127.1.2.3:80");
  EXPECT_EQ(expandVariables("$(MISSING) $$(POD_IP) $$ $", vars), "$(MISSING) $(POD_IP) $ $");
  EXPECT_EQ(expandVariables("$(POD_IP", vars), "$(POD_IP");
}

TEST(ContainerSpec, EnvironmentFromValuesAndTheDownwardApi) {
  Json container = {
      {"env",
       Json::array(
           {{{"name", "POD_IP"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "status.podIP"}}}}}},
            {{"name", "NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
            {{"name", "URL"}, {"value", "http://$(POD_IP):8080"}},
            {{"name", "PATH"}, {"value", "/opt/bin"}}})}};
  PodFacts facts{"web", "default", "uid-1", "node-1", "127.1.2.3", "127.0.0.1"};
  auto env = containerEnvironment(container, facts, {{"PATH", "/usr/bin"}, {"HOSTNAME", "web"}});
  std::map<std::string, std::string> byName(env.begin(), env.end());
  EXPECT_EQ(byName["POD_IP"], "127.1.2.3");
  EXPECT_EQ(byName["NAME"], "web");
  EXPECT_EQ(byName["URL"], "http://127.1.2.3:8080");
  EXPECT_EQ(byName["PATH"], "/opt/bin");
  EXPECT_EQ(env.size(), 5u);
  Json secretRef = {
      {"env", Json::array({{{"name", "X"}, {"valueFrom", {{"secretKeyRef", {{"name", "s"}}}}}}})}};
  EXPECT_THROW(containerEnvironment(secretRef, facts, {}), std::invalid_argument);
}

TEST(ContainerSpec, CommandLineUsesTheImageEntrypointUnlessACommandIsGiven) {
  std::vector<std::pair<std::string, std::string>> env = {{"PATH", "/usr/bin:/bin"},
                                                          {"POD_IP", "127.1.2.3"}};
  Json argsOnly = {{"image", "python:3"}, {"args", {"-m", "http.server", "--bind", "$(POD_IP)"}}};
  CommandLine line = containerCommand(argsOnly, "/usr/bin/python3", env);
  EXPECT_EQ(line.executable, "/usr/bin/python3");
  EXPECT_EQ(line.argv, (std::vector<std::string>{"/usr/bin/python3", "-m", "http.server", "--bind",
                                                 "127.1.2.3"}));
  Json byName = {{"image", "reg/llmops-runtime:1"}, {"command", {"llmops-runtime", "serve"}}};
  EXPECT_EQ(containerCommand(byName, "/build/node-runtime/llmops-runtime", env).executable,
            "/build/node-runtime/llmops-runtime");
  Json shell = {{"image", "python"}, {"command", {"sh", "-c", "exit 3"}}};
  EXPECT_EQ(containerCommand(shell, "/usr/bin/python3", env).executable, "/usr/bin/sh");
}

}  // namespace
}  // namespace llmops::devcluster
