// Deletion as Kubernetes defines it: finalizers hold an object (deletionTimestamp set),
// ownerReferences propagate a deletion to dependents (Background, Foreground, Orphan),
// and a deleted namespace empties before it goes. Owner deletions run under the store lock
// and are settled when the request returns (dependents come from the store's owner index,
// so each costs its dependents, not the store). A deleted namespace only turns Terminating:
// finalizeNamespaces() empties it in small batches, releasing the lock between them, as the
// real namespace controller does, and resumes after a restart.
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
  // Deletes up to `batch` objects of Terminating namespaces (the lock is held per batch)
  // and removes namespaces that are empty. Returns whether work is left.
  bool finalizeNamespaces(std::size_t batch);

 private:
  void removeNow(const std::string& resource, const nlohmann::json& object);
  std::vector<std::pair<std::string, nlohmann::json>> dependentsOf(
      const nlohmann::json& owner) const;
  bool isNamespacedResource(const std::string& resource) const;

  ObjectStore& store_;
  const ResourceRegistry& registry_;
};

}  // namespace llmops::devcluster
