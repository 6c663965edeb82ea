#include "llmops/kube/indexer.h"

#include <mutex>
#include <stdexcept>

namespace llmops::kube {

std::string object_key(const nlohmann::json& object) {
  const auto& metadata = object.at("metadata");
  std::string name = metadata.value("name", "");
  std::string ns = metadata.value("namespace", "");
  return ns.empty() ? name : ns + "/" + name;
}

std::string resource_version_of(const nlohmann::json& object) {
  if (!object.contains("metadata")) return "";
  return object["metadata"].value("resourceVersion", "");
}

void Indexer::add_index(const std::string& name, IndexFunc func) {
  std::unique_lock lock(mutex_);
  funcs_[name] = std::move(func);
  auto& index = indexes_[name];
  index.clear();
  for (const auto& [key, object] : objects_) {
    for (auto& value : funcs_[name](*object)) index[value].insert(key);
  }
}

void Indexer::index_locked(const std::string& key, const nlohmann::json& object) {
  for (const auto& [name, func] : funcs_) {
    auto& index = indexes_[name];
    for (auto& value : func(object)) index[value].insert(key);
  }
}

void Indexer::unindex_locked(const std::string& key, const nlohmann::json& object) {
  for (const auto& [name, func] : funcs_) {
    auto& index = indexes_[name];
    for (auto& value : func(object)) {
      auto it = index.find(value);
      if (it == index.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) index.erase(it);
    }
  }
}

ObjectPtr Indexer::upsert(ObjectPtr object) {
  std::string key = object_key(*object);
  std::unique_lock lock(mutex_);
  ObjectPtr old;
  auto it = objects_.find(key);
  if (it != objects_.end()) {
    old = it->second;
    unindex_locked(key, *old);
    it->second = object;
  } else {
    objects_.emplace(key, object);
  }
  index_locked(key, *object);
  return old;
}

ObjectPtr Indexer::remove(const std::string& key) {
  std::unique_lock lock(mutex_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
  ObjectPtr old = it->second;
  unindex_locked(key, *old);
  objects_.erase(it);
  return old;
}

ObjectPtr Indexer::get(const std::string& key) const {
  std::shared_lock lock(mutex_);
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Indexer::list() const {
  std::shared_lock lock(mutex_);
  std::vector<ObjectPtr> out;
  out.reserve(objects_.size());
  for (const auto& [key, object] : objects_) out.push_back(object);
  return out;
}

std::vector<std::string> Indexer::keys() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  out.reserve(objects_.size());
  for (const auto& [key, object] : objects_) out.push_back(key);
  return out;
}

std::size_t Indexer::size() const {
  std::shared_lock lock(mutex_);
  return objects_.size();
}

std::vector<ObjectPtr> Indexer::by_index(const std::string& index, const std::string& value) const {
  std::shared_lock lock(mutex_);
  auto it = indexes_.find(index);
  if (it == indexes_.end()) throw std::out_of_range("no index named " + index);
  std::vector<ObjectPtr> out;
  auto values = it->second.find(value);
  if (values == it->second.end()) return out;
  for (const auto& key : values->second) out.push_back(objects_.at(key));
  return out;
}

std::vector<std::string> index_by_namespace(const nlohmann::json& object) {
  return {object.at("metadata").value("namespace", "")};
}

std::vector<std::string> index_by_owner_uid(const nlohmann::json& object) {
  std::vector<std::string> out;
  const auto& metadata = object.at("metadata");
  auto refs = metadata.find("ownerReferences");
  if (refs == metadata.end() || !refs->is_array()) return out;
  for (const auto& ref : *refs) {
    if (ref.contains("uid") && ref["uid"].is_string()) out.push_back(ref["uid"].get<std::string>());
  }
  return out;
}

IndexFunc index_by_label(const std::string& label) {
  return [label](const nlohmann::json& object) -> std::vector<std::string> {
    const auto& metadata = object.at("metadata");
    auto labels = metadata.find("labels");
    if (labels == metadata.end() || !labels->is_object()) return {};
    auto value = labels->find(label);
    if (value == labels->end() || !value->is_string()) return {};
    return {value->get<std::string>()};
  };
}

}  // namespace llmops::kube
