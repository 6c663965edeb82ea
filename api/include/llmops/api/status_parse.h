// Reading the LLMDeployment contract back from the API's JSON where more than one program
// needs it: the traffic split the operator publishes in status (the router routes by it)
// and a Pod's readiness and llmops.dev labels (the operator, the router and the
// devcluster's endpoints controller). Lenient where a route must survive one odd entry,
// strict (std::invalid_argument naming the field) where the old readers refused.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llmops::api {

// One entry of status.traffic: a revision and its percentage of the requests.
struct TrafficShare {
  int64_t revision = 0;
  int weight = 0;
  bool operator==(const TrafficShare&) const = default;
};

// status.stableRevision and status.traffic as the router needs them.
struct TrafficStatus {
  std::optional<int64_t> stable_revision;  // none unless an integer
  std::vector<TrafficShare> traffic;       // in order, first entry of a revision wins
};

// Entries that are not objects or lack an integer revision are skipped, as is a repeated
// revision; a missing weight is 0, a negative one counts as 0. A weight that is not a
// number throws std::invalid_argument ("status.traffic[1].weight ..."). A status that is
// not an object gives an empty TrafficStatus.
TrafficStatus parse_traffic_status(const nlohmann::json& status);

// The Pod's Ready condition is True (status.conditions[type=Ready]); false when the Pod
// has no such condition or the JSON is not shaped like a Pod.
bool pod_ready(const nlohmann::json& pod);

// metadata.labels[key] when it is a string, else "".
std::string pod_label(const nlohmann::json& pod, const char* key);

// The llmops.dev/revision label as a number (leading digits, as std::stoll reads them);
// none when missing or not a number.
std::optional<int64_t> pod_revision(const nlohmann::json& pod);

}  // namespace llmops::api
