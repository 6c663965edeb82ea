#include "object_validation.h"

#include <map>
#include <set>

#include "llmops/common/kube_validation.h"
#include "status.h"

namespace llmops::devcluster {

using Json = nlohmann::json;
namespace kv = llmops::kube_validation;

namespace {

std::string quoted(const std::string& value) {
  return Json(value).dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json cause(const std::string& field, const std::string& value, const std::string& why) {
  return {{"reason", "FieldValueInvalid"},
          {"message", "Invalid value: " + quoted(value) + ": " + why},
          {"field", field}};
}

// The rule for metadata.name of each kind, as the apiserver's Validate<Kind>Name.
std::string nameError(const ResourceType& type, const std::string& name) {
  if (type.group.empty() && type.kind == "Namespace") return kv::dns1123LabelError(name);
  if (type.group.empty() && type.kind == "Service") return kv::dns1035LabelError(name);
  return kv::dns1123SubdomainError(name);
}

constexpr std::size_t kMaxAnnotationBytes = 256 * 1024;

std::string stringOr(const Json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

}  // namespace

std::string generatedName(const std::string& prefix, const std::string& randomSuffix) {
  constexpr std::size_t kMaxGeneratedNameLength = 63 - 5;  // names.SimpleNameGenerator
  return prefix.substr(0, kMaxGeneratedNameLength) + randomSuffix;
}

void validateObjectMeta(const ResourceType& type, const Json& object) {
  const Json& metadata = object["metadata"];
  Json causes = Json::array();
  const Json& nameValue = metadata.contains("name") ? metadata["name"] : Json();
  if (!nameValue.is_string()) {
    causes.push_back({{"reason", "FieldValueRequired"},
                      {"message", "Required value: name or generateName is required"},
                      {"field", "metadata.name"}});
  } else if (std::string error = nameError(type, nameValue.get<std::string>()); !error.empty()) {
    causes.push_back(cause("metadata.name", nameValue.get<std::string>(), error));
  }
  if (metadata.contains("labels") && !metadata["labels"].is_null()) {
    if (!metadata["labels"].is_object()) {
      causes.push_back(cause("metadata.labels", metadata["labels"].dump(), "must be a map"));
    } else {
      for (const auto& [key, value] : metadata["labels"].items()) {
        if (std::string error = kv::qualifiedNameError(key); !error.empty()) {
          causes.push_back(cause("metadata.labels", key, error));
        }
        if (!value.is_string()) {
          causes.push_back(cause("metadata.labels", stringOr(value), "must be a string"));
        } else if (std::string error = kv::labelValueError(value.get<std::string>());
                   !error.empty()) {
          causes.push_back(cause("metadata.labels", value.get<std::string>(), error));
        }
      }
    }
  }
  if (metadata.contains("annotations") && metadata["annotations"].is_object()) {
    std::size_t total = 0;
    for (const auto& [key, value] : metadata["annotations"].items()) {
      total += key.size() + stringOr(value).size();
      if (std::string error = kv::qualifiedNameError(key); !error.empty()) {
        causes.push_back(cause("metadata.annotations", key, error));
      }
    }
    if (total > kMaxAnnotationBytes) {
      causes.push_back({{"reason", "FieldValueTooLong"},
                        {"message", "Too long: must have at most 262144 bytes"},
                        {"field", "metadata.annotations"}});
    }
  }
  if (!causes.empty()) {
    throw invalid(type.group, type.kind, nameValue.is_string() ? nameValue.get<std::string>() : "",
                  causes);
  }
}

void validatePodSpec(const Json& pod) {
  const std::string name = pod["metadata"].value("name", "");
  if (!pod.contains("spec") || !pod["spec"].is_object()) return;
  const Json& spec = pod["spec"];
  Json causes = Json::array();
  const Json containers = spec.value("containers", Json::array());
  if (!containers.is_array()) return;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < containers.size(); ++i) {
    const Json& container = containers[i];
    if (!container.is_object()) continue;
    const std::string path = "spec.containers[" + std::to_string(i) + "]";
    const Json& containerName = container.contains("name") ? container["name"] : Json();
    if (!containerName.is_string()) {
      causes.push_back({{"reason", "FieldValueRequired"},
                        {"message", "Required value"},
                        {"field", path + ".name"}});
    } else {
      const std::string text = containerName.get<std::string>();
      if (std::string error = kv::dns1123LabelError(text); !error.empty()) {
        causes.push_back(cause(path + ".name", text, error));
      } else if (!seen.insert(text).second) {
        causes.push_back({{"reason", "FieldValueDuplicate"},
                          {"message", "Duplicate value: " + quoted(text)},
                          {"field", path + ".name"}});
      }
    }
    if (!container.contains("resources") || !container["resources"].is_object()) continue;
    for (const char* field : {"requests", "limits"}) {
      const Json& amounts = container["resources"].value(field, Json::object());
      if (!amounts.is_object()) continue;
      for (const auto& [resource, value] : amounts.items()) {
        const std::string text = stringOr(value);
        if (std::string error = kv::quantityError(text); !error.empty()) {
          // The real server fails while decoding, before validation: 400, not 422.
          throw badRequest("Pod in version \"v1\" cannot be handled as a Pod: " + error + " (" +
                           path + ".resources." + field + "." + resource + ": " + quoted(text) +
                           ")");
        }
        if (kv::parseQuantity(text, 1000).value_or(0) < 0) {
          causes.push_back(cause(path + ".resources." + field + "[" + resource + "]", text,
                                 "must be greater than or equal to 0"));
        }
      }
    }
    for (const char* resource : {"cpu", "memory"}) {
      const Json& requests = container["resources"].value("requests", Json::object());
      const Json& limits = container["resources"].value("limits", Json::object());
      if (!requests.is_object() || !limits.is_object() || !requests.contains(resource) ||
          !limits.contains(resource)) {
        continue;
      }
      auto request = kv::parseQuantity(stringOr(requests[resource]), 1000);
      auto limit = kv::parseQuantity(stringOr(limits[resource]), 1000);
      if (request && limit && *request > *limit) {
        causes.push_back(cause(path + ".resources.requests", stringOr(requests[resource]),
                               std::string("must be less than or equal to ") + resource +
                                   " limit of " + stringOr(limits[resource])));
      }
    }
  }
  if (!causes.empty()) throw invalid("", "Pod", name, causes);
}

std::vector<std::string> pruneUnknownTopLevelFields(const ResourceType& type, Json& object) {
  if (type.custom) return {};
  static const std::map<std::string, std::set<std::string>> kFields = {
      {"/Pod", {"spec", "status"}},
      {"/Namespace", {"spec", "status"}},
      {"/Service", {"spec", "status"}},
      {"/Node", {"spec", "status"}},
      {"/Endpoints", {"subsets"}},
      {"/ConfigMap", {"data", "binaryData", "immutable"}},
      {"/Secret", {"data", "stringData", "type", "immutable"}},
      {"/ServiceAccount", {"secrets", "imagePullSecrets", "automountServiceAccountToken"}},
      {"/Event",
       {"involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count",
        "type", "eventTime", "series", "action", "related", "reportingComponent",
        "reportingInstance"}},
      {"events.k8s.io/Event",
       {"eventTime", "series", "reportingController", "reportingInstance", "action", "reason",
        "regarding", "related", "note", "type", "deprecatedSource", "deprecatedFirstTimestamp",
        "deprecatedLastTimestamp", "deprecatedCount"}},
      {"discovery.k8s.io/EndpointSlice", {"addressType", "endpoints", "ports"}},
      {"coordination.k8s.io/Lease", {"spec"}},
      {"apiextensions.k8s.io/CustomResourceDefinition", {"spec", "status"}},
  };
  auto known = kFields.find(type.group + "/" + type.kind);
  if (known == kFields.end() || !object.is_object()) return {};
  std::vector<std::string> unknown;
  for (const auto& [key, value] : object.items()) {
    if (key == "apiVersion" || key == "kind" || key == "metadata") continue;
    if (!known->second.count(key)) unknown.push_back(key);
  }
  for (const auto& key : unknown) object.erase(key);
  return unknown;
}

}  // namespace llmops::devcluster
