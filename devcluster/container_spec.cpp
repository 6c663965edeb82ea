#include "container_spec.h"

#include <unistd.h>

#include <filesystem>
#include <stdexcept>

namespace llmops::devcluster {

using Json = nlohmann::json;

std::string imageName(const std::string& image) {
  std::string name = image;
  if (auto at = name.find('@'); at != std::string::npos) name.erase(at);
  if (auto slash = name.rfind('/'); slash != std::string::npos) name.erase(0, slash + 1);
  if (auto colon = name.find(':'); colon != std::string::npos) name.erase(colon);
  return name;
}

std::optional<std::string> ImageResolver::resolve(const std::string& image,
                                                  std::string& why) const {
  const std::string name = imageName(image);
  if (auto mapped = imageMap_.find(name); mapped != imageMap_.end()) {
    if (access(mapped->second.c_str(), X_OK) == 0) return mapped->second;
    why = "--image-map " + name + "=" + mapped->second + " is not an executable file";
    return std::nullopt;
  }
  for (const auto& [builtin, dir] :
       {std::pair<std::string, std::string>{"llmops-runtime", "node-runtime"},
        {"llmops-router", "router"},
        {"llmops-operator", "operator"}}) {  // manifests/overlays/devcluster
    if (name != builtin) continue;
    std::string path = builtinDir_ + "/../" + dir + "/" + builtin;
    if (access(path.c_str(), X_OK) == 0) return std::filesystem::weakly_canonical(path).string();
    why = "image " + image + " maps to " + path + ", which is not built";
    return std::nullopt;
  }
  why = "no binary for image " + image + " (name \"" + name + "\"): add --image-map " + name +
        "=PATH";
  return std::nullopt;
}

std::string selfExecutableDir() {
  std::error_code error;
  auto path = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return ".";
  return path.parent_path().string();
}

std::string expandVariables(const std::string& text,
                            const std::map<std::string, std::string>& variables) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out.push_back(text[i]);
      continue;
    }
    if (text[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    if (text[i + 1] == '(') {
      auto close = text.find(')', i + 2);
      if (close != std::string::npos) {
        std::string name = text.substr(i + 2, close - i - 2);
        auto found = variables.find(name);
        if (found != variables.end()) {
          out += found->second;
          i = close;
          continue;
        }
      }
    }
    out.push_back('$');
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> containerEnvironment(
    const Json& container, const PodFacts& facts,
    const std::vector<std::pair<std::string, std::string>>& base) {
  std::vector<std::pair<std::string, std::string>> env = base;
  std::map<std::string, std::string> defined;
  auto set = [&](const std::string& name, const std::string& value) {
    defined[name] = value;
    for (auto& entry : env) {
      if (entry.first == name) {
        entry.second = value;
        return;
      }
    }
    env.emplace_back(name, value);
  };
  if (!container.contains("env") || !container["env"].is_array()) return env;
  for (const auto& entry : container["env"]) {
    const std::string name = entry.value("name", "");
    if (name.empty()) continue;
    if (entry.contains("valueFrom")) {
      const Json& from = entry["valueFrom"];
      if (!from.contains("fieldRef")) {
        throw std::invalid_argument("env " + name +
                                    ": only valueFrom.fieldRef is supported by the devcluster");
      }
      const std::string field = from["fieldRef"].value("fieldPath", "");
      static const std::map<std::string, std::string PodFacts::*> kFields = {
          {"metadata.name", &PodFacts::name},  {"metadata.namespace", &PodFacts::ns},
          {"metadata.uid", &PodFacts::uid},    {"spec.nodeName", &PodFacts::nodeName},
          {"status.podIP", &PodFacts::podIP},  {"status.hostIP", &PodFacts::hostIP},
          {"status.podIPs", &PodFacts::podIP}, {"status.hostIPs", &PodFacts::hostIP}};
      auto known = kFields.find(field);
      if (known == kFields.end()) {
        throw std::invalid_argument("env " + name + ": unsupported fieldRef.fieldPath \"" + field +
                                    "\"");
      }
      set(name, facts.*(known->second));
    } else {
      set(name, expandVariables(entry.value("value", ""), defined));
    }
  }
  return env;
}

CommandLine containerCommand(const Json& container, const std::string& imageBinary,
                             const std::vector<std::pair<std::string, std::string>>& env) {
  std::map<std::string, std::string> variables(env.begin(), env.end());
  CommandLine line;
  auto append = [&](const char* field) {
    if (!container.contains(field) || !container[field].is_array()) return;
    for (const auto& word : container[field]) {
      line.argv.push_back(
          expandVariables(word.is_string() ? word.get<std::string>() : word.dump(), variables));
    }
  };
  append("command");
  if (line.argv.empty()) line.argv.push_back(imageBinary);
  append("args");
  const std::string& first = line.argv.front();
  const std::string imageBase = std::filesystem::path(imageBinary).filename().string();
  if (first.find('/') != std::string::npos) {
    line.executable = first;
  } else if (first == imageBase || first == imageName(container.value("image", ""))) {
    line.executable = imageBinary;
  } else {
    line.executable = first;  // searched in PATH by the launcher
    for (const auto& [name, value] : env) {
      if (name != "PATH") continue;
      size_t start = 0;
      while (start <= value.size()) {
        size_t end = value.find(':', start);
        std::string dir =
            value.substr(start, end == std::string::npos ? std::string::npos : end - start);
        std::string candidate = (dir.empty() ? "." : dir) + "/" + first;
        if (access(candidate.c_str(), X_OK) == 0) {
          line.executable = candidate;
          break;
        }
        if (end == std::string::npos) break;
        start = end + 1;
      }
    }
  }
  return line;
}

}  // namespace llmops::devcluster
