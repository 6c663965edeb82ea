// The informer's local cache: objects by "namespace/name" key plus secondary indexes
// (by owner uid, by label...). Thread-safe; objects are immutable shared snapshots, so a
// reader holds what it got while the cache moves on.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace llmops::kube {

using ObjectPtr = std::shared_ptr<const nlohmann::json>;
// The values an object is filed under in one index (none, one or several).
using IndexFunc = std::function<std::vector<std::string>(const nlohmann::json&)>;

// "namespace/name", or "name" for cluster-scoped objects.
std::string object_key(const nlohmann::json& object);
std::string resource_version_of(const nlohmann::json& object);

class Indexer {
 public:
  // Adds an index; objects already cached are indexed at once.
  void add_index(const std::string& name, IndexFunc func);

  // Stores the object under its key; returns the object it replaced (nullptr if new).
  ObjectPtr upsert(ObjectPtr object);
  // Removes and returns the object under key (nullptr if absent).
  ObjectPtr remove(const std::string& key);

  ObjectPtr get(const std::string& key) const;
  std::vector<ObjectPtr> list() const;
  std::vector<std::string> keys() const;
  std::size_t size() const;
  // Objects filed under value in the named index; throws std::out_of_range for an
  // unknown index name.
  std::vector<ObjectPtr> by_index(const std::string& index, const std::string& value) const;

 private:
  void index_locked(const std::string& key, const nlohmann::json& object);
  void unindex_locked(const std::string& key, const nlohmann::json& object);

  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, ObjectPtr> objects_;
  std::map<std::string, IndexFunc> funcs_;
  std::map<std::string, std::unordered_map<std::string, std::set<std::string>>> indexes_;
};

// Common index functions.
std::vector<std::string> index_by_namespace(const nlohmann::json& object);
std::vector<std::string> index_by_owner_uid(const nlohmann::json& object);
IndexFunc index_by_label(const std::string& label);

}  // namespace llmops::kube
