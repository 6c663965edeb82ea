#include "resource_registry.h"

#include "status.h"

namespace llmops::devcluster {

namespace {

ResourceType builtinType(std::string group, std::string version, std::string kind,
                         std::string plural, bool namespaced,
                         std::vector<std::string> shortNames = {}) {
  ResourceType type;
  type.group = std::move(group);
  type.version = std::move(version);
  type.kind = std::move(kind);
  type.plural = std::move(plural);
  type.singular = type.kind;
  for (auto& c : type.singular) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  type.namespaced = namespaced;
  type.shortNames = std::move(shortNames);
  return type;
}

}  // namespace

ResourceRegistry::ResourceRegistry() {
  auto pods = builtinType("", "v1", "Pod", "pods", true, {"po"});
  pods.statusSubresource = true;
  pods.extraSubresources = {"binding", "log"};
  pods.categories = {"all"};
  auto namespaces = builtinType("", "v1", "Namespace", "namespaces", false, {"ns"});
  namespaces.statusSubresource = true;
  namespaces.extraSubresources = {"finalize"};
  auto services = builtinType("", "v1", "Service", "services", true, {"svc"});
  services.statusSubresource = true;
  services.categories = {"all"};
  auto nodes = builtinType("", "v1", "Node", "nodes", false, {"no"});
  nodes.statusSubresource = true;
  auto crds = builtinType("apiextensions.k8s.io", "v1", "CustomResourceDefinition",
                          "customresourcedefinitions", false, {"crd", "crds"});
  crds.statusSubresource = true;
  builtin_ = {namespaces,
              pods,
              services,
              builtinType("", "v1", "Endpoints", "endpoints", true, {"ep"}),
              builtinType("", "v1", "ConfigMap", "configmaps", true, {"cm"}),
              builtinType("", "v1", "Secret", "secrets", true),
              builtinType("", "v1", "Event", "events", true, {"ev"}),
              builtinType("", "v1", "ServiceAccount", "serviceaccounts", true, {"sa"}),
              nodes,
              builtinType("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true),
              builtinType("coordination.k8s.io", "v1", "Lease", "leases", true),
              builtinType("events.k8s.io", "v1", "Event", "events", true, {"ev"}),
              crds};
}

std::optional<ResourceType> ResourceRegistry::find(const std::string& group,
                                                   const std::string& version,
                                                   const std::string& plural) const {
  std::lock_guard lock(mutex_);
  for (const auto& type : builtin_) {
    if (type.group == group && type.version == version && type.plural == plural) return type;
  }
  for (const auto& [crd, types] : custom_) {
    for (const auto& type : types) {
      if (type.group == group && type.version == version && type.plural == plural) return type;
    }
  }
  return std::nullopt;
}

std::optional<ResourceType> ResourceRegistry::findAnyVersion(const std::string& group,
                                                             const std::string& plural) const {
  std::lock_guard lock(mutex_);
  for (const auto& type : builtin_) {
    if (type.group == group && type.plural == plural) return type;
  }
  for (const auto& [crd, types] : custom_) {
    for (const auto& type : types) {
      if (type.group == group && type.plural == plural) return type;
    }
  }
  return std::nullopt;
}

std::optional<ResourceType> ResourceRegistry::findByKind(const std::string& apiVersion,
                                                         const std::string& kind) const {
  for (const auto& type : all()) {
    if (type.apiVersion() == apiVersion && type.kind == kind) return type;
  }
  return std::nullopt;
}

std::vector<ResourceType> ResourceRegistry::all() const {
  std::lock_guard lock(mutex_);
  std::vector<ResourceType> result = builtin_;
  for (const auto& [crd, types] : custom_) result.insert(result.end(), types.begin(), types.end());
  return result;
}

bool ResourceRegistry::groupVersionServed(const std::string& group,
                                          const std::string& version) const {
  for (const auto& type : all()) {
    if (type.group == group && type.version == version) return true;
  }
  return false;
}

void ResourceRegistry::setCustomResources(const std::string& crdName,
                                          std::vector<ResourceType> types) {
  std::lock_guard lock(mutex_);
  if (types.empty()) {
    custom_.erase(crdName);
  } else {
    custom_[crdName] = std::move(types);
  }
}

std::vector<ResourceType> resourceTypesFromCrd(const nlohmann::json& crd) {
  const std::string name = crd.value("/metadata/name"_json_pointer, std::string());
  auto fail = [&](const std::string& field, const std::string& message) {
    return invalid(
        "apiextensions.k8s.io", "CustomResourceDefinition", name,
        nlohmann::json::array(
            {{{"reason", "FieldValueRequired"}, {"message", message}, {"field", field}}}));
  };
  const auto& spec = crd.contains("spec") ? crd["spec"] : nlohmann::json::object();
  const auto names = spec.value("names", nlohmann::json::object());
  std::string group = spec.value("group", "");
  std::string plural = names.value("plural", "");
  std::string kind = names.value("kind", "");
  if (group.empty()) throw fail("spec.group", "Required value");
  if (plural.empty()) throw fail("spec.names.plural", "Required value");
  if (kind.empty()) throw fail("spec.names.kind", "Required value");
  if (name != plural + "." + group) {
    throw invalid("apiextensions.k8s.io", "CustomResourceDefinition", name,
                  nlohmann::json::array({{{"reason", "FieldValueInvalid"},
                                          {"message", "must be spec.names.plural+\".\"+spec.group"},
                                          {"field", "metadata.name"}}}));
  }
  if (!spec.contains("versions") || !spec["versions"].is_array() || spec["versions"].empty()) {
    throw fail("spec.versions", "Required value");
  }
  std::vector<ResourceType> types;
  for (const auto& version : spec["versions"]) {
    if (!version.value("served", true)) continue;
    ResourceType type;
    type.group = group;
    type.version = version.value("name", "");
    type.kind = kind;
    type.plural = plural;
    type.singular = names.value("singular", "");
    if (type.singular.empty()) {
      type.singular = kind;
      for (auto& c : type.singular)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    type.namespaced = spec.value("scope", "Namespaced") == "Namespaced";
    type.shortNames = names.value("shortNames", std::vector<std::string>{});
    type.categories = names.value("categories", std::vector<std::string>{});
    type.custom = true;
    type.crdName = name;
    if (version.contains("schema") && version["schema"].contains("openAPIV3Schema")) {
      type.schema = version["schema"]["openAPIV3Schema"];
    }
    if (version.contains("additionalPrinterColumns")) {
      type.printerColumns = version["additionalPrinterColumns"];
    }
    if (version.contains("subresources")) {
      const auto& subresources = version["subresources"];
      type.statusSubresource = subresources.contains("status");
      if (subresources.contains("scale")) {
        const auto& scale = subresources["scale"];
        type.scale = ScaleSubresource{scale.value("specReplicasPath", ".spec.replicas"),
                                      scale.value("statusReplicasPath", ".status.replicas"),
                                      scale.value("labelSelectorPath", "")};
      }
    }
    if (version.value("storage", false)) {
      types.insert(types.begin(), type);
    } else {
      types.push_back(type);
    }
  }
  return types;
}

}  // namespace llmops::devcluster
