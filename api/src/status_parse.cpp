#include "llmops/api/status_parse.h"

#include <stdexcept>

#include "llmops/api/llmdeployment.h"

namespace llmops::api {

using nlohmann::json;

TrafficStatus parse_traffic_status(const json& status) {
  TrafficStatus result;
  if (!status.is_object()) return result;
  if (auto stable = status.find("stableRevision");
      stable != status.end() && stable->is_number_integer()) {
    result.stable_revision = stable->get<int64_t>();
  }
  auto traffic = status.find("traffic");
  if (traffic == status.end() || !traffic->is_array()) return result;
  for (std::size_t i = 0; i < traffic->size(); ++i) {
    const json& entry = (*traffic)[i];
    if (!entry.is_object()) continue;
    auto revision = entry.find("revision");
    if (revision == entry.end() || !revision->is_number_integer()) continue;
    TrafficShare share;
    share.revision = revision->get<int64_t>();
    if (auto weight = entry.find("weight"); weight != entry.end() && !weight->is_null()) {
      if (!weight->is_number()) {
        throw std::invalid_argument("status.traffic[" + std::to_string(i) +
                                    "].weight is not a number");
      }
      share.weight = weight->get<int>();
    }
    if (share.weight < 0) share.weight = 0;
    bool seen = false;
    for (const auto& earlier : result.traffic) seen = seen || earlier.revision == share.revision;
    if (!seen) result.traffic.push_back(share);
  }
  return result;
}

bool pod_ready(const json& pod) {
  if (!pod.is_object()) return false;
  auto status = pod.find("status");
  if (status == pod.end() || !status->is_object()) return false;
  auto conditions = status->find("conditions");
  if (conditions == status->end() || !conditions->is_array()) return false;
  for (const auto& condition : *conditions) {
    if (!condition.is_object()) continue;
    auto type = condition.find("type");
    if (type == condition.end() || *type != "Ready") continue;
    auto value = condition.find("status");
    return value != condition.end() && *value == kConditionTrue;
  }
  return false;
}

std::string pod_label(const json& pod, const char* key) {
  if (!pod.is_object()) return "";
  auto metadata = pod.find("metadata");
  if (metadata == pod.end() || !metadata->is_object()) return "";
  auto labels = metadata->find("labels");
  if (labels == metadata->end() || !labels->is_object()) return "";
  auto value = labels->find(key);
  return value != labels->end() && value->is_string() ? value->get<std::string>() : "";
}

std::optional<int64_t> pod_revision(const json& pod) {
  const std::string text = pod_label(pod, kRevisionLabel);
  try {
    return std::stoll(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace llmops::api
