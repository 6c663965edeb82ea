// Deletion as Kubernetes defines it: finalizers hold an object (deletionTimestamp set),
// ownerReferences propagate a deletion to dependents (Background, Foreground, Orphan),
// and a deleted namespace empties before it goes. Runs synchronously under the store
// lock, so every deletion is settled by the time the request that caused it returns.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "object_store.h"
#include "resource_registry.h"

namespace llmops::devcluster {

enum class PropagationPolicy { Background, Foreground, Orphan };

class GarbageCollector {
 public:
  GarbageCollector(ObjectStore& store, const ResourceRegistry& registry)
      : store_(store), registry_(registry) {}

  // Deletes, or marks for deletion, one stored object. Returns the object's last state:
  // still stored (with deletionTimestamp) or gone (`removed` true).
  nlohmann::json requestDeletion(const std::string& resource, const nlohmann::json& object,
                                 PropagationPolicy policy, bool& removed);
  // Finishes what waits on nothing any more: objects whose finalizers are gone,
  // foreground owners without dependents, empty terminating namespaces.
  void settle();

 private:
  void removeNow(const std::string& resource, const nlohmann::json& object);
  std::vector<std::pair<std::string, nlohmann::json>> dependentsOf(
      const nlohmann::json& owner) const;
  bool isNamespacedResource(const std::string& resource) const;

  ObjectStore& store_;
  const ResourceRegistry& registry_;
};

}  // namespace llmops::devcluster
