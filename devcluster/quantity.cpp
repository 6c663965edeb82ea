#include "quantity.h"

#include <cmath>
#include <string>

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

// The quantity's value in base units (cores, bytes), or nullopt.
std::optional<long double> parseQuantity(std::string_view text) {
  if (text.empty()) return std::nullopt;
  size_t i = 0;
  bool negative = false;
  if (text[i] == '+' || text[i] == '-') negative = text[i++] == '-';
  size_t digitsStart = i;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == digitsStart) return std::nullopt;
  long double value = 0;
  try {
    value = std::stold(std::string(text.substr(digitsStart, i - digitsStart)));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::string_view suffix = text.substr(i);
  static const std::pair<std::string_view, long double> kSuffixes[] = {
      {"", 1},
      {"m", 1e-3L},
      {"k", 1e3L},
      {"M", 1e6L},
      {"G", 1e9L},
      {"T", 1e12L},
      {"P", 1e15L},
      {"E", 1e18L},
      {"Ki", 1024.0L},
      {"Mi", 1024.0L * 1024},
      {"Gi", 1024.0L * 1024 * 1024},
      {"Ti", 1024.0L * 1024 * 1024 * 1024},
      {"Pi", 1024.0L * 1024 * 1024 * 1024 * 1024},
      {"Ei", 1024.0L * 1024 * 1024 * 1024 * 1024 * 1024}};
  long double scale = -1;
  for (const auto& [name, factor] : kSuffixes) {
    if (suffix == name) scale = factor;
  }
  if (scale < 0 && !suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E')) {
    try {
      size_t used = 0;
      int exponent = std::stoi(std::string(suffix.substr(1)), &used);
      if (used != suffix.size() - 1) return std::nullopt;
      scale = std::pow(10.0L, exponent);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (scale < 0) return std::nullopt;
  value *= scale;
  return negative ? -value : value;
}

std::optional<int64_t> roundedUp(std::optional<long double> value, long double unit) {
  if (!value) return std::nullopt;
  long double scaled = *value * unit;
  if (std::fabs(scaled) > 9e18L) return std::nullopt;
  // Absorb the binary representation error of decimal fractions before rounding up.
  return static_cast<int64_t>(std::ceil(scaled - 1e-9L));
}

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
  return roundedUp(parseQuantity(text), 1000);
}

std::optional<int64_t> parseBytes(std::string_view text) {
  return roundedUp(parseQuantity(text), 1);
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
