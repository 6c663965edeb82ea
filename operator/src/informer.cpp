#include "llmops/kube/informer.h"

#include <spdlog/spdlog.h>

#include <thread>
#include <unordered_set>

namespace llmops::kube {

Informer::Informer(std::shared_ptr<KubeClient> client, GroupVersionResource gvr, std::string ns,
                   ReflectorOptions options)
    : gvr_(gvr),
      reflector_(std::move(client), std::move(gvr), std::move(ns), *this, std::move(options)) {}

Informer::~Informer() {
  stop();
}

void Informer::add_event_handlers(EventHandlers handlers) {
  std::lock_guard lock(handlers_mutex_);
  handlers_.push_back(std::move(handlers));
}

void Informer::start() {
  reflector_.start();
}
void Informer::stop() {
  reflector_.stop();
}

bool Informer::wait_for_sync(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!has_synced()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

void Informer::replace(std::vector<nlohmann::json> items) {
  std::unordered_set<std::string> seen;
  std::lock_guard lock(handlers_mutex_);
  for (auto& item : items) {
    auto object = std::make_shared<const nlohmann::json>(std::move(item));
    std::string key = object_key(*object);
    seen.insert(key);
    ObjectPtr old = store_.get(key);
    // A relist repeats unchanged objects: only what changed is news for the handlers.
    if (old && resource_version_of(*old) == resource_version_of(*object)) continue;
    store_.upsert(object);
    for (auto& handlers : handlers_) {
      if (old) {
        if (handlers.on_update) handlers.on_update(old, object);
      } else if (handlers.on_add) {
        handlers.on_add(object);
      }
    }
  }
  for (const auto& key : store_.keys()) {
    if (seen.count(key) != 0) continue;
    ObjectPtr gone = store_.remove(key);
    if (!gone) continue;
    for (auto& handlers : handlers_) {
      if (handlers.on_delete) handlers.on_delete(gone);
    }
  }
}

void Informer::apply(WatchEvent event) {
  auto object = std::make_shared<const nlohmann::json>(std::move(event.object));
  std::lock_guard lock(handlers_mutex_);
  if (event.type == "DELETED") {
    store_.remove(object_key(*object));
    for (auto& handlers : handlers_) {
      if (handlers.on_delete) handlers.on_delete(object);
    }
    return;
  }
  if (event.type != "ADDED" && event.type != "MODIFIED") {
    spdlog::warn("event=watch_unknown_type resource={} type={}", gvr_.describe(), event.type);
    return;
  }
  ObjectPtr old = store_.upsert(object);
  for (auto& handlers : handlers_) {
    if (old) {
      if (handlers.on_update) handlers.on_update(old, object);
    } else if (handlers.on_add) {
      handlers.on_add(object);
    }
  }
}

}  // namespace llmops::kube
