#include "quantity.h"

#include <string>

#include "llmops/common/kube_validation.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

std::optional<int64_t> amountOf(const Json& resources, const char* field, const char* name,
                                bool cpu) {
  if (!resources.is_object() || !resources.contains(field) || !resources[field].is_object() ||
      !resources[field].contains(name)) {
    return std::nullopt;
  }
  const Json& value = resources[field][name];
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  return cpu ? parseCpuMillis(text) : parseBytes(text);
}

const Json& containersOf(const Json& pod) {
  static const Json kEmpty = Json::array();
  if (!pod.contains("spec") || !pod["spec"].contains("containers") ||
      !pod["spec"]["containers"].is_array()) {
    return kEmpty;
  }
  return pod["spec"]["containers"];
}

}  // namespace

std::optional<int64_t> parseCpuMillis(std::string_view text) {
  return kube_validation::parseQuantity(text, 1000);
}

std::optional<int64_t> parseBytes(std::string_view text) {
  return kube_validation::parseQuantity(text, 1);
}

ResourceAmounts podRequests(const Json& pod) {
  ResourceAmounts total;
  for (const auto& container : containersOf(pod)) {
    Json resources = container.value("resources", Json::object());
    auto cpu = amountOf(resources, "requests", "cpu", true);
    if (!cpu) cpu = amountOf(resources, "limits", "cpu", true);
    auto memory = amountOf(resources, "requests", "memory", false);
    if (!memory) memory = amountOf(resources, "limits", "memory", false);
    total.cpuMillis += cpu.value_or(0);
    total.memoryBytes += memory.value_or(0);
  }
  return total;
}

bool isGuaranteed(const Json& pod) {
  const Json& containers = containersOf(pod);
  if (containers.empty()) return false;
  for (const auto& container : containers) {
    Json resources = container.value("resources", Json::object());
    for (const char* name : {"cpu", "memory"}) {
      bool cpu = std::string(name) == "cpu";
      auto limit = amountOf(resources, "limits", name, cpu);
      auto request = amountOf(resources, "requests", name, cpu);
      if (!limit || (request && *request != *limit)) return false;
    }
  }
  return true;
}

std::string qosClass(const Json& pod) {
  if (isGuaranteed(pod)) return "Guaranteed";
  for (const auto& container : containersOf(pod)) {
    Json resources = container.value("resources", Json::object());
    for (const char* field : {"requests", "limits"}) {
      if (resources.contains(field) && resources[field].is_object() && !resources[field].empty())
        return "Burstable";
    }
  }
  return "BestEffort";
}

}  // namespace llmops::devcluster
