#include "object_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "status.h"

namespace llmops::devcluster {

namespace {

Json eventToJson(const StoreEvent& event) {
  return {{"rv", event.resourceVersion},
          {"type", event.type},
          {"resource", event.resource},
          {"object", event.object},
          {"previous", event.previous}};
}

StoreEvent eventFromJson(const Json& json) {
  return {json.at("rv").get<uint64_t>(), json.at("type").get<std::string>(),
          json.at("resource").get<std::string>(), json.at("object"),
          json.value("previous", Json())};
}

void writeAll(int fd, const std::string& data, const std::string& path) {
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    }
    written += static_cast<size_t>(n);
  }
}

void syncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

ObjectStore::ObjectStore(ObjectStoreOptions options) : options_(std::move(options)) {
  if (!options_.dataDir.empty()) load();
}

ObjectStore::~ObjectStore() {
  if (logFd_ >= 0) ::close(logFd_);
}

std::string ObjectStore::objectKey(const Json& object) {
  const auto& metadata = object.at("metadata");
  return metadata.value("namespace", "") + "/" + metadata.value("name", "");
}

uint64_t ObjectStore::resourceVersion() const {
  std::lock_guard lock(mutex_);
  return resourceVersion_;
}

uint64_t ObjectStore::compactedResourceVersion() const {
  std::lock_guard lock(mutex_);
  return compactedVersion_;
}

std::optional<Json> ObjectStore::get(const std::string& resource, const std::string& ns,
                                     const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto byResource = objects_.find(resource);
  if (byResource == objects_.end()) return std::nullopt;
  auto it = byResource->second.find(ns + "/" + name);
  if (it == byResource->second.end()) return std::nullopt;
  return it->second;
}

std::vector<Json> ObjectStore::list(const std::string& resource, const std::string& ns) const {
  std::lock_guard lock(mutex_);
  std::vector<Json> result;
  auto byResource = objects_.find(resource);
  if (byResource == objects_.end()) return result;
  for (const auto& [key, object] : byResource->second) {
    if (ns.empty() || key.compare(0, ns.size() + 1, ns + "/") == 0) result.push_back(object);
  }
  return result;
}

std::vector<std::pair<std::string, Json>> ObjectStore::listNamespace(const std::string& ns,
                                                                     std::size_t limit,
                                                                     bool skipDeleting) const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, Json>> result;
  const std::string prefix = ns + "/";
  for (const auto& [resource, objects] : objects_) {
    for (auto it = objects.lower_bound(prefix);
         it != objects.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      if (limit > 0 && result.size() >= limit) return result;
      if (skipDeleting && deleting_.count({resource, it->first})) continue;
      result.emplace_back(resource, it->second);
    }
  }
  return result;
}

std::vector<std::pair<std::string, Json>> ObjectStore::dependentsOf(
    const std::string& ownerUid) const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, Json>> result;
  auto found = dependents_.find(ownerUid);
  if (found == dependents_.end()) return result;
  for (const auto& [resource, key] : found->second) {
    result.emplace_back(resource, objects_.at(resource).at(key));
  }
  return result;
}

std::vector<std::pair<std::string, Json>> ObjectStore::listDeleting() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, Json>> result;
  for (const auto& [resource, key] : deleting_) {
    result.emplace_back(resource, objects_.at(resource).at(key));
  }
  return result;
}

void ObjectStore::reindex(const std::string& resource, const std::string& key, const Json* old,
                          const Json* next) {
  auto owners = [](const Json* object) {
    std::set<std::string> uids;
    if (object == nullptr || !object->contains("metadata")) return uids;
    const Json& references = (*object)["metadata"].value("ownerReferences", Json::array());
    if (!references.is_array()) return uids;
    for (const auto& reference : references) {
      if (reference.is_object() && reference.contains("uid") && reference["uid"].is_string()) {
        uids.insert(reference["uid"].get<std::string>());
      }
    }
    return uids;
  };
  auto deleting = [](const Json* object) {
    return object != nullptr && object->contains("metadata") &&
           (*object)["metadata"].contains("deletionTimestamp");
  };
  const ObjectRef ref{resource, key};
  for (const auto& uid : owners(old)) {
    auto it = dependents_.find(uid);
    if (it == dependents_.end()) continue;
    it->second.erase(ref);
    if (it->second.empty()) dependents_.erase(it);
  }
  for (const auto& uid : owners(next)) dependents_[uid].insert(ref);
  if (deleting(next)) {
    deleting_.insert(ref);
  } else {
    deleting_.erase(ref);
  }
}

std::vector<std::pair<std::string, Json>> ObjectStore::listAll() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, Json>> result;
  for (const auto& [resource, objects] : objects_) {
    for (const auto& [key, object] : objects) result.emplace_back(resource, object);
  }
  return result;
}

Json ObjectStore::put(const std::string& resource, Json object) {
  std::lock_guard lock(mutex_);
  StoreEvent event;
  event.resourceVersion = resourceVersion_ + 1;
  event.resource = resource;
  object["metadata"]["resourceVersion"] = std::to_string(event.resourceVersion);
  auto& objects = objects_[resource];
  auto it = objects.find(objectKey(object));
  if (it == objects.end()) {
    event.type = "ADDED";
  } else {
    event.type = "MODIFIED";
    event.previous = it->second;
  }
  event.object = object;
  commit(std::move(event));
  return object;
}

std::optional<Json> ObjectStore::remove(const std::string& resource, const std::string& ns,
                                        const std::string& name) {
  std::lock_guard lock(mutex_);
  auto byResource = objects_.find(resource);
  if (byResource == objects_.end()) return std::nullopt;
  auto it = byResource->second.find(ns + "/" + name);
  if (it == byResource->second.end()) return std::nullopt;
  StoreEvent event;
  event.resourceVersion = resourceVersion_ + 1;
  event.type = "DELETED";
  event.resource = resource;
  event.previous = it->second;
  event.object = it->second;
  event.object["metadata"]["resourceVersion"] = std::to_string(event.resourceVersion);
  Json removed = event.object;
  commit(std::move(event));
  return removed;
}

void ObjectStore::removeAll(const std::string& resource) {
  std::lock_guard lock(mutex_);
  for (const auto& object : list(resource, "")) {
    const auto& metadata = object["metadata"];
    remove(resource, metadata.value("namespace", ""), metadata.value("name", ""));
  }
}

void ObjectStore::commit(StoreEvent event) {
  // Persist first: an event a watcher saw must survive a crash.
  appendToLog(event);
  resourceVersion_ = event.resourceVersion;
  auto& objects = objects_[event.resource];
  const std::string key = objectKey(event.object);
  auto existing = objects.find(key);
  const Json* old = existing == objects.end() ? nullptr : &existing->second;
  reindex(event.resource, key, old, event.type == "DELETED" ? nullptr : &event.object);
  if (event.type == "DELETED") {
    objects.erase(key);
  } else {
    objects[key] = event.object;
  }
  history_.push_back(event);
  while (history_.size() > options_.historyLimit) {
    compactedVersion_ = history_.front().resourceVersion;
    history_.pop_front();
  }
  for (auto& [id, watcher] : watchers_) {
    if (watcher.resource.empty() || watcher.resource == event.resource) watcher.callback(event);
  }
  if (++writesSinceSnapshot_ >= options_.compactEveryWrites) writeSnapshot();
}

uint64_t ObjectStore::watch(const std::string& resource, uint64_t afterVersion,
                            WatchCallback callback) {
  std::lock_guard lock(mutex_);
  if (afterVersion < compactedVersion_) {
    throw expired("too old resource version: " + std::to_string(afterVersion) + " (" +
                  std::to_string(compactedVersion_ + 1) + ")");
  }
  for (const auto& event : history_) {
    if (event.resourceVersion > afterVersion && (resource.empty() || event.resource == resource)) {
      callback(event);
    }
  }
  uint64_t id = nextWatchId_++;
  watchers_[id] = Watcher{resource, std::move(callback)};
  return id;
}

void ObjectStore::unwatch(uint64_t watchId) {
  std::lock_guard lock(mutex_);
  watchers_.erase(watchId);
}

void ObjectStore::load() {
  namespace fs = std::filesystem;
  fs::create_directories(options_.dataDir);
  const std::string snapshotPath = options_.dataDir + "/store.snapshot.json";
  const std::string logPath = options_.dataDir + "/store.log.jsonl";
  if (fs::exists(snapshotPath)) {
    std::ifstream in(snapshotPath);
    Json snapshot = Json::parse(in);
    resourceVersion_ = snapshot.at("resourceVersion").get<uint64_t>();
    compactedVersion_ = snapshot.at("compactedResourceVersion").get<uint64_t>();
    for (const auto& entry : snapshot.at("objects")) {
      objects_[entry.at("resource").get<std::string>()][objectKey(entry.at("object"))] =
          entry.at("object");
    }
    for (const auto& entry : snapshot.at("history")) history_.push_back(eventFromJson(entry));
  }
  if (fs::exists(logPath)) {
    std::ifstream in(logPath);
    std::string line;
    while (std::getline(in, line)) {
      // A torn last line (a crash mid-append) ends the log: that write never completed.
      Json entry = Json::parse(line, nullptr, false);
      if (entry.is_discarded() || !entry.contains("rv")) break;
      StoreEvent event = eventFromJson(entry);
      if (event.resourceVersion <= resourceVersion_) continue;  // already in the snapshot
      resourceVersion_ = event.resourceVersion;
      auto& objects = objects_[event.resource];
      if (event.type == "DELETED") {
        objects.erase(objectKey(event.object));
      } else {
        objects[objectKey(event.object)] = event.object;
      }
      history_.push_back(std::move(event));
    }
  }
  for (const auto& [resource, objects] : objects_) {
    for (const auto& [key, object] : objects) reindex(resource, key, nullptr, &object);
  }
  while (history_.size() > options_.historyLimit) {
    compactedVersion_ = history_.front().resourceVersion;
    history_.pop_front();
  }
  writeSnapshot();
}

void ObjectStore::writeSnapshot() {
  if (options_.dataDir.empty()) return;
  const std::string snapshotPath = options_.dataDir + "/store.snapshot.json";
  const std::string logPath = options_.dataDir + "/store.log.jsonl";
  Json snapshot = {{"resourceVersion", resourceVersion_},
                   {"compactedResourceVersion", compactedVersion_},
                   {"objects", Json::array()},
                   {"history", Json::array()}};
  for (const auto& [resource, objects] : objects_) {
    for (const auto& [key, object] : objects) {
      snapshot["objects"].push_back({{"resource", resource}, {"object", object}});
    }
  }
  for (const auto& event : history_) snapshot["history"].push_back(eventToJson(event));
  // Write-then-rename so that a crash leaves either the old or the new snapshot.
  const std::string tmpPath = snapshotPath + ".tmp";
  int fd = ::open(tmpPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + tmpPath + ": " + std::strerror(errno));
  writeAll(fd, snapshot.dump(), tmpPath);
  ::fsync(fd);
  ::close(fd);
  std::filesystem::rename(tmpPath, snapshotPath);
  syncDirectory(options_.dataDir);
  if (logFd_ >= 0) ::close(logFd_);
  logFd_ = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (logFd_ < 0) throw std::runtime_error("cannot open " + logPath + ": " + std::strerror(errno));
  writesSinceSnapshot_ = 0;
}

void ObjectStore::appendToLog(const StoreEvent& event) {
  if (logFd_ < 0) return;
  writeAll(logFd_, eventToJson(event).dump() + "\n", options_.dataDir + "/store.log.jsonl");
  ::fdatasync(logFd_);
}

}  // namespace llmops::devcluster
