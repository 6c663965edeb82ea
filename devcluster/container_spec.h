// From a Pod's container spec to what the kubelet executes: the image mapped to a local
// binary, the environment (downward API, $(VAR) expansion) and the argument vector.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace llmops::devcluster {

// The image's last path component without tag or digest:
// "docker.io/library/python:3" -> "python", "reg:5000/a/llmops-runtime@sha256:.." -> ...
std::string imageName(const std::string& image);

class ImageResolver {
 public:
  // `builtinDir` is the devcluster binary's directory: llmops-runtime and llmops-router
  // are looked up in ../node-runtime/ and ../router/ beside it. `imageMap` maps image
  // names (--image-map NAME=PATH).
  ImageResolver(std::string builtinDir, std::map<std::string, std::string> imageMap)
      : builtinDir_(std::move(builtinDir)), imageMap_(std::move(imageMap)) {}
  // The executable for `image`, or nullopt with `why` set.
  std::optional<std::string> resolve(const std::string& image, std::string& why) const;

 private:
  std::string builtinDir_;
  std::map<std::string, std::string> imageMap_;
};

// The directory of the running executable (/proc/self/exe).
std::string selfExecutableDir();

struct PodFacts {  // what the downward API exposes
  std::string name, ns, uid, nodeName, podIP, hostIP;
};

// Kubernetes' $(VAR) expansion: $(NAME) of a defined variable is replaced, $$ is a
// literal $, anything else is kept as written.
std::string expandVariables(const std::string& text,
                            const std::map<std::string, std::string>& variables);

// The container's environment in order: env entries (value with $(VAR) over earlier
// entries, or valueFrom.fieldRef), after the base (PATH, HOSTNAME). Throws
// std::invalid_argument for an unsupported valueFrom.
std::vector<std::pair<std::string, std::string>> containerEnvironment(
    const nlohmann::json& container, const PodFacts& facts,
    const std::vector<std::pair<std::string, std::string>>& base);

// argv: command (or the image's entrypoint, the executable) then args, expanded. The
// executable to exec is argv[0] when it names a path or the image; else PATH is searched.
struct CommandLine {
  std::string executable;
  std::vector<std::string> argv;
};
CommandLine containerCommand(const nlohmann::json& container, const std::string& imageBinary,
                             const std::vector<std::pair<std::string, std::string>>& env);

}  // namespace llmops::devcluster
