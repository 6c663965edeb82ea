// The resource types the server serves: the built-in kinds plus those that installed
// CustomResourceDefinitions define. Thread-safe; lookups return copies.
#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace llmops::devcluster {

struct ScaleSubresource {
  std::string specReplicasPath;    // e.g. ".spec.replicas"
  std::string statusReplicasPath;  // e.g. ".status.replicas"
  std::string labelSelectorPath;   // may be empty
};

struct ResourceType {
  std::string group;
  std::string version;
  std::string kind;
  std::string plural;
  std::string singular;
  bool namespaced = true;
  std::vector<std::string> shortNames;
  std::vector<std::string> categories;
  bool statusSubresource = false;
  std::optional<ScaleSubresource> scale;
  std::vector<std::string> extraSubresources;  // served but not modelled: binding, log...
  bool custom = false;                         // defined by a CRD
  std::string crdName;
  nlohmann::json schema;          // openAPIV3Schema of a custom resource version
  nlohmann::json printerColumns;  // additionalPrinterColumns (array) or null

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  // The store's version-independent key: "<group>/<plural>".
  std::string storageKey() const { return group + "/" + plural; }
};

class ResourceRegistry {
 public:
  ResourceRegistry();  // with the built-in kinds

  std::optional<ResourceType> find(const std::string& group, const std::string& version,
                                   const std::string& plural) const;
  // Any served version of group/plural, preferring the storage version.
  std::optional<ResourceType> findAnyVersion(const std::string& group,
                                             const std::string& plural) const;
  std::optional<ResourceType> findByKind(const std::string& apiVersion,
                                         const std::string& kind) const;
  std::vector<ResourceType> all() const;
  bool groupVersionServed(const std::string& group, const std::string& version) const;

  // Replaces what CRD `crdName` defines (empty removes it).
  void setCustomResources(const std::string& crdName, std::vector<ResourceType> types);

 private:
  mutable std::mutex mutex_;
  std::vector<ResourceType> builtin_;
  std::map<std::string, std::vector<ResourceType>> custom_;
};

// The served versions of a CustomResourceDefinition, storage version first. Throws
// ApiError 422 when the CRD is not usable (missing names, group, versions).
std::vector<ResourceType> resourceTypesFromCrd(const nlohmann::json& crd);

}  // namespace llmops::devcluster
