#include "object_lifecycle.h"

#include <random>

#include "quantity.h"
#include "schema.h"
#include "status.h"
#include "time_format.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

std::mt19937_64& randomEngine() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

std::string allocateClusterIp() {
  std::uniform_int_distribution<int> octet(1, 254);
  return "10.96." + std::to_string(octet(randomEngine()) % 255) + "." +
         std::to_string(octet(randomEngine()));
}

void defaultPod(Json& pod) {
  auto& spec = pod["spec"];
  if (!spec.is_object()) spec = Json::object();
  if (!spec.contains("restartPolicy")) spec["restartPolicy"] = "Always";
  if (!spec.contains("terminationGracePeriodSeconds")) spec["terminationGracePeriodSeconds"] = 30;
  if (!spec.contains("dnsPolicy")) spec["dnsPolicy"] = "ClusterFirst";
  if (!spec.contains("schedulerName")) spec["schedulerName"] = "default-scheduler";
  if (!spec.contains("enableServiceLinks")) spec["enableServiceLinks"] = true;
  if (spec.contains("containers") && spec["containers"].is_array()) {
    for (auto& container : spec["containers"]) {
      if (!container.is_object()) continue;
      if (!container.contains("terminationMessagePath")) {
        container["terminationMessagePath"] = "/dev/termination-log";
      }
      if (!container.contains("terminationMessagePolicy")) {
        container["terminationMessagePolicy"] = "File";
      }
      if (!container.contains("imagePullPolicy")) container["imagePullPolicy"] = "IfNotPresent";
      if (container.contains("ports") && container["ports"].is_array()) {
        for (auto& port : container["ports"]) {
          if (port.is_object() && !port.contains("protocol")) port["protocol"] = "TCP";
        }
      }
    }
  }
  pod["status"] = {{"phase", "Pending"}, {"qosClass", qosClass(pod)}};
}

void defaultService(Json& service) {
  auto& spec = service["spec"];
  if (!spec.is_object()) spec = Json::object();
  if (!spec.contains("type")) spec["type"] = "ClusterIP";
  if (!spec.contains("sessionAffinity")) spec["sessionAffinity"] = "None";
  if (!spec.contains("clusterIP") && spec["type"] != "ExternalName") {
    spec["clusterIP"] = allocateClusterIp();
    spec["clusterIPs"] = Json::array({spec["clusterIP"]});
  }
  if (spec.contains("ports") && spec["ports"].is_array()) {
    for (auto& port : spec["ports"]) {
      if (!port.is_object()) continue;
      if (!port.contains("protocol")) port["protocol"] = "TCP";
      if (!port.contains("targetPort") && port.contains("port")) port["targetPort"] = port["port"];
    }
  }
  service["status"] = {{"loadBalancer", Json::object()}};
}

Json withoutMetadataAndStatus(const Json& object) {
  Json copy = object;
  if (copy.is_object()) {
    copy.erase("metadata");
    copy.erase("status");
  }
  return copy;
}

}  // namespace

std::string newUid() {
  std::uniform_int_distribution<int> hex(0, 15);
  const char* digits = "0123456789abcdef";
  std::string uid = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
  for (auto& c : uid) {
    if (c == 'x') c = digits[hex(randomEngine())];
    if (c == 'y') c = digits[8 + hex(randomEngine()) % 4];
  }
  return uid;
}

std::string randomNameSuffix() {
  static const std::string kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::uniform_int_distribution<size_t> pick(0, kAlphabet.size() - 1);
  std::string suffix;
  for (int i = 0; i < 5; ++i) suffix.push_back(kAlphabet[pick(randomEngine())]);
  return suffix;
}

std::string nowTimestamp() {
  return formatTimestamp(std::chrono::system_clock::now());
}

void prepareForCreate(const ResourceType& type, Json& object) {
  auto& metadata = object["metadata"];
  metadata["uid"] = newUid();
  metadata["creationTimestamp"] = nowTimestamp();
  metadata.erase("deletionTimestamp");
  metadata.erase("deletionGracePeriodSeconds");
  metadata.erase("resourceVersion");
  metadata.erase("selfLink");
  if (type.custom || type.kind == "CustomResourceDefinition") metadata["generation"] = 1;
  if (type.group.empty() && type.kind == "Namespace") {
    metadata["labels"]["kubernetes.io/metadata.name"] = metadata["name"];
    object["spec"] = {{"finalizers", Json::array({"kubernetes"})}};
    object["status"] = {{"phase", "Active"}};
  } else if (type.group.empty() && type.kind == "Pod") {
    defaultPod(object);
  } else if (type.group.empty() && type.kind == "Service") {
    defaultService(object);
  } else if (type.statusSubresource) {
    object.erase("status");
  }
}

bool specChanged(const Json& old, const Json& object) {
  return withoutMetadataAndStatus(old) != withoutMetadataAndStatus(object);
}

void prepareForUpdate(const ResourceType& type, const Json& old, Json& object) {
  auto& metadata = object["metadata"];
  const auto& oldMetadata = old["metadata"];
  for (const char* key : {"uid", "creationTimestamp", "deletionTimestamp",
                          "deletionGracePeriodSeconds", "generation", "namespace", "name"}) {
    if (oldMetadata.contains(key)) {
      metadata[key] = oldMetadata[key];
    } else {
      metadata.erase(key);
    }
  }
  metadata.erase("selfLink");
  if (oldMetadata.contains("generation") && specChanged(old, object)) {
    metadata["generation"] = oldMetadata["generation"].get<int64_t>() + 1;
  }
  if (type.group.empty() && type.kind == "Namespace") {
    metadata["labels"]["kubernetes.io/metadata.name"] = metadata["name"];
  }
}

AdmissionResult admitCustomResource(const ResourceType& type, Json& object,
                                    FieldValidation validation) {
  AdmissionResult result;
  const std::string name = object["metadata"].value("name", "");
  if (!type.schema.is_object()) return result;
  auto unknown = pruneUnknownFields(type.schema, object);
  if (!unknown.empty() && validation != FieldValidation::Ignore) {
    std::string message;
    for (const auto& field : unknown) {
      message += (message.empty() ? "" : ", ") + std::string("unknown field \"") + field + "\"";
    }
    if (validation == FieldValidation::Strict) {
      throw badRequest(type.kind + " in version \"" + type.version + "\" cannot be handled as a " +
                       type.kind + ": strict decoding error: " + message);
    }
    for (const auto& field : unknown) result.warnings.push_back("unknown field \"" + field + "\"");
  }
  applyDefaults(type.schema, object);
  auto causes = validateAgainstSchema(type.schema, object);
  if (!causes.empty()) {
    Json list = Json::array();
    for (const auto& cause : causes) {
      list.push_back(
          {{"reason", cause.reason}, {"message", cause.message}, {"field", cause.field}});
    }
    throw invalid(type.group, type.kind, name, list);
  }
  return result;
}

void admitCustomResourceDefinition(Json& crd) {
  auto types = resourceTypesFromCrd(crd);  // throws 422 when unusable
  const auto& spec = crd["spec"];
  Json storedVersions = Json::array();
  for (const auto& version : spec["versions"]) {
    if (version.value("storage", false)) storedVersions.push_back(version.value("name", ""));
  }
  Json oldConditions =
      crd.contains("status") ? crd["status"].value("conditions", Json::array()) : Json::array();
  auto condition = [&](const std::string& kind, const std::string& reason,
                       const std::string& message) {
    std::string since = nowTimestamp();
    for (const auto& old : oldConditions) {
      if (old.value("type", "") == kind && old.value("status", "") == "True") {
        since = old.value("lastTransitionTime", since);
      }
    }
    return Json{{"type", kind},
                {"status", "True"},
                {"lastTransitionTime", since},
                {"reason", reason},
                {"message", message}};
  };
  crd["status"] = {
      {"acceptedNames", spec["names"]},
      {"storedVersions", storedVersions},
      {"conditions", Json::array({condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                                  condition("Established", "InitialNamesAccepted",
                                            "the initial names have been accepted")})}};
  if (!crd["status"]["acceptedNames"].contains("singular")) {
    crd["status"]["acceptedNames"]["singular"] = types.front().singular;
  }
  if (!crd["status"]["acceptedNames"].contains("listKind")) {
    crd["status"]["acceptedNames"]["listKind"] = types.front().kind + "List";
  }
}

}  // namespace llmops::devcluster
