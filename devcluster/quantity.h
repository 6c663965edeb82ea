// Kubernetes resource quantities ("500m", "2", "1.5", "128Mi", "1G", "1e3") read as
// integers: CPU in millicores, memory in bytes, rounded up as the apiserver does.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace llmops::devcluster {

// nullopt when the text is not a quantity.
std::optional<int64_t> parseCpuMillis(std::string_view text);
std::optional<int64_t> parseBytes(std::string_view text);

struct ResourceAmounts {
  int64_t cpuMillis = 0;
  int64_t memoryBytes = 0;
};

// What a Pod asks for: the sum of its containers' requests (a container without
// requests but with limits requests its limits, as defaulting does).
ResourceAmounts podRequests(const nlohmann::json& pod);
// Guaranteed QoS: every container has cpu and memory limits equal to its requests.
bool isGuaranteed(const nlohmann::json& pod);
std::string qosClass(const nlohmann::json& pod);

}  // namespace llmops::devcluster
