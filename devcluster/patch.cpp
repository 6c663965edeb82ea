#include "patch.h"

#include <map>

#include "status.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

Json applyMergePatch(const Json& target, const Json& patch) {
  if (!patch.is_object()) {
    throw badRequest("merge patch must be a JSON object, got " + std::string(patch.type_name()));
  }
  Json result = target;
  result.merge_patch(patch);
  return result;
}

Json applyJsonPatch(const Json& target, const Json& patch) {
  if (!patch.is_array()) throw badRequest("json patch must be a JSON array of operations");
  for (const auto& operation : patch) {
    if (!operation.is_object() || !operation.contains("op") || !operation["op"].is_string() ||
        !operation.contains("path") || !operation["path"].is_string()) {
      throw badRequest("json patch operation must have string \"op\" and \"path\": " +
                       operation.dump(-1, ' ', false, Json::error_handler_t::replace));
    }
  }
  try {
    return target.patch(patch);
  } catch (const Json::out_of_range& e) {
    throw ApiError(422, "Invalid",
                   std::string("the server rejected our request due to an error "
                               "in our request: ") +
                       e.what());
  } catch (const Json::exception& e) {
    throw ApiError(422, "Invalid", std::string("json patch could not be applied: ") + e.what());
  }
}

namespace {

// Merge keys of the core types' lists (from the Go struct tags of k8s.io/api).
std::string mergeKeyFor(const std::string& field, const Json& elements) {
  static const std::map<std::string, std::string> kKeys = {
      {"containers", "name"},
      {"initContainers", "name"},
      {"ephemeralContainers", "name"},
      {"env", "name"},
      {"volumes", "name"},
      {"volumeMounts", "mountPath"},
      {"volumeDevices", "devicePath"},
      {"imagePullSecrets", "name"},
      {"conditions", "type"},
      {"ownerReferences", "uid"},
      {"hostAliases", "ip"},
      {"topologySpreadConstraints", "topologyKey"},
      {"readinessGates", "conditionType"}};
  if (field == "ports") {
    for (const auto& element : elements) {
      if (element.is_object() && element.contains("containerPort")) return "containerPort";
    }
    return "port";
  }
  auto it = kKeys.find(field);
  return it == kKeys.end() ? "" : it->second;
}

bool isSetList(const std::string& field) {
  return field == "finalizers";
}

Json strategicMerge(const Json& target, const Json& patch);

Json mergeList(const std::string& field, const Json& target, const Json& patch) {
  if (!target.is_array()) {
    Json result = Json::array();
    for (const auto& element : patch) {
      if (!(element.is_object() && element.contains("$patch"))) result.push_back(element);
    }
    return result;
  }
  if (isSetList(field)) {
    Json result = target;
    for (const auto& element : patch) {
      if (std::find(result.begin(), result.end(), element) == result.end())
        result.push_back(element);
    }
    return result;
  }
  const std::string key = mergeKeyFor(field, patch);
  if (key.empty()) return patch;  // atomic list: replaced
  for (const auto& element : patch) {
    if (element.is_object() && element.value("$patch", "") == "replace") {
      Json result = Json::array();
      for (const auto& other : patch) {
        if (!(other.is_object() && other.contains("$patch"))) result.push_back(other);
      }
      return result;
    }
  }
  Json result = target;
  for (const auto& element : patch) {
    if (!element.is_object() || !element.contains(key)) {
      throw badRequest("strategic merge patch: element of " + field + " lacks merge key " + key);
    }
    auto same = std::find_if(result.begin(), result.end(), [&](const Json& existing) {
      return existing.is_object() && existing.contains(key) && existing[key] == element[key];
    });
    if (element.value("$patch", "") == "delete") {
      if (same != result.end()) result.erase(same);
    } else if (same != result.end()) {
      *same = strategicMerge(*same, element);
    } else {
      result.push_back(strategicMerge(Json::object(), element));
    }
  }
  return result;
}

Json strategicMerge(const Json& target, const Json& patch) {
  if (!patch.is_object()) return patch;
  if (patch.value("$patch", "") == "replace") {
    Json result = patch;
    result.erase("$patch");
    return result;
  }
  if (patch.value("$patch", "") == "delete") return nullptr;
  Json result = target.is_object() ? target : Json::object();
  for (const auto& [field, value] : patch.items()) {
    if (field.rfind("$setElementOrder/", 0) == 0 || field == "$retainKeys" || field == "$patch") {
      continue;  // ordering and retention hints: this server keeps the merged order
    }
    if (field.rfind("$deleteFromPrimitiveList/", 0) == 0) {
      std::string list = field.substr(std::string("$deleteFromPrimitiveList/").size());
      if (result.contains(list) && result[list].is_array() && value.is_array()) {
        Json kept = Json::array();
        for (const auto& element : result[list]) {
          if (std::find(value.begin(), value.end(), element) == value.end())
            kept.push_back(element);
        }
        result[list] = kept;
      }
      continue;
    }
    if (value.is_null()) {
      result.erase(field);
    } else if (value.is_object()) {
      Json merged = strategicMerge(result.contains(field) ? result[field] : Json(), value);
      if (merged.is_null()) {
        result.erase(field);
      } else {
        result[field] = merged;
      }
    } else if (value.is_array()) {
      result[field] = mergeList(field, result.contains(field) ? result[field] : Json(), value);
    } else {
      result[field] = value;
    }
  }
  return result;
}

}  // namespace

Json applyStrategicMergePatch(const Json& target, const Json& patch) {
  if (!patch.is_object()) throw badRequest("strategic merge patch must be a JSON object");
  return strategicMerge(target, patch);
}

}  // namespace llmops::devcluster
