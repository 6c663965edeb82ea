// The versioned object store: one resourceVersion counter for every write, watchers fed
// in commit order, a bounded event history (older watch starts get 410 Expired), and
// persistence in the data directory (snapshot + append-only log; a restart loses nothing
// and resourceVersions keep increasing). Objects are JSON; keys are resource + ns + name.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace llmops::devcluster {

using Json = nlohmann::json;

struct StoreEvent {
  uint64_t resourceVersion = 0;
  std::string type;      // ADDED, MODIFIED or DELETED
  std::string resource;  // ResourceType::storageKey()
  Json object;           // the new object (the last state for DELETED)
  Json previous;         // the state before, null for ADDED
};

struct ObjectStoreOptions {
  std::string dataDir;               // empty: in memory only (tests)
  std::size_t historyLimit = 10000;  // events kept for watch resumption
  std::size_t compactEveryWrites = 5000;
};

class ObjectStore {
 public:
  explicit ObjectStore(ObjectStoreOptions options);
  ~ObjectStore();

  // Holds the store for a read-modify-write sequence; every method also locks itself.
  std::unique_lock<std::recursive_mutex> lock() { return std::unique_lock(mutex_); }

  uint64_t resourceVersion() const;
  // The oldest resourceVersion a watch can start after.
  uint64_t compactedResourceVersion() const;

  std::optional<Json> get(const std::string& resource, const std::string& ns,
                          const std::string& name) const;
  // Every object of a resource (in one namespace, or all when ns is empty), ordered by
  // namespace then name.
  std::vector<Json> list(const std::string& resource, const std::string& ns) const;
  // Objects of every resource in a namespace, as (resource, object): all of them, or the
  // first `limit` (0: no limit), leaving out those being deleted when `skipDeleting`.
  // Costs the objects visited, not the store's size.
  std::vector<std::pair<std::string, Json>> listNamespace(const std::string& ns,
                                                          std::size_t limit = 0,
                                                          bool skipDeleting = false) const;
  // Objects with an ownerReference to `ownerUid`, from an index kept on every write.
  std::vector<std::pair<std::string, Json>> dependentsOf(const std::string& ownerUid) const;
  // Objects with metadata.deletionTimestamp set, from an index kept on every write.
  std::vector<std::pair<std::string, Json>> listDeleting() const;
  std::vector<std::pair<std::string, Json>> listAll() const;

  // Writes stamp metadata.resourceVersion and return the stored object. put() creates
  // or replaces; the caller has checked preconditions under lock().
  Json put(const std::string& resource, Json object);
  // Removes and returns the object stamped with the deletion's resourceVersion.
  std::optional<Json> remove(const std::string& resource, const std::string& ns,
                             const std::string& name);
  // Drops every object of a resource (a CRD's deletion), emitting DELETED for each.
  void removeAll(const std::string& resource);

  using WatchCallback = std::function<void(const StoreEvent&)>;
  // Calls `callback` (under the store lock, so it must not block) for every event of
  // `resource` (all resources when empty) after `afterVersion`, first those already in
  // the history, then live. Throws ApiError 410 when the history no longer reaches back.
  uint64_t watch(const std::string& resource, uint64_t afterVersion, WatchCallback callback);
  void unwatch(uint64_t watchId);

 private:
  void load();
  void appendToLog(const StoreEvent& event);
  void writeSnapshot();
  void commit(StoreEvent event);
  static std::string objectKey(const Json& object);
  // Keeps dependents_ and deleting_ in step with objects_ (old or next may be null).
  void reindex(const std::string& resource, const std::string& key, const Json* old,
               const Json* next);

  mutable std::recursive_mutex mutex_;
  ObjectStoreOptions options_;
  uint64_t resourceVersion_ = 0;
  uint64_t compactedVersion_ = 0;
  std::map<std::string, std::map<std::string, Json>> objects_;  // resource -> ns/name -> obj
  using ObjectRef = std::pair<std::string, std::string>;        // resource, ns/name
  std::map<std::string, std::set<ObjectRef>> dependents_;       // owner uid -> dependents
  std::set<ObjectRef> deleting_;
  std::deque<StoreEvent> history_;
  struct Watcher {
    std::string resource;
    WatchCallback callback;
  };
  std::map<uint64_t, Watcher> watchers_;
  uint64_t nextWatchId_ = 1;
  int logFd_ = -1;
  std::size_t writesSinceSnapshot_ = 0;
};

}  // namespace llmops::devcluster
