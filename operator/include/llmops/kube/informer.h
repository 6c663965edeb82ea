// A shared informer: a Reflector filling an Indexer, and event handlers told about every
// add, update and delete in order. Handlers run on the informer's thread and must be
// quick (enqueue a key; never call the API).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "llmops/kube/indexer.h"
#include "llmops/kube/reflector.h"

namespace llmops::kube {

struct EventHandlers {
  std::function<void(const ObjectPtr&)> on_add;
  std::function<void(const ObjectPtr& old_object, const ObjectPtr& new_object)> on_update;
  std::function<void(const ObjectPtr&)> on_delete;  // the last state known
};

class Informer : private ReflectorSink {
 public:
  Informer(std::shared_ptr<KubeClient> client, GroupVersionResource gvr, std::string ns = "",
           ReflectorOptions options = {});
  ~Informer() override;

  // Before start(): handlers added later miss the initial adds.
  void add_event_handlers(EventHandlers handlers);
  void add_index(const std::string& name, IndexFunc func) {
    store_.add_index(name, std::move(func));
  }

  void start();
  void stop();
  bool has_synced() const { return reflector_.has_synced(); }
  // Waits until synced; false on timeout.
  bool wait_for_sync(std::chrono::milliseconds timeout) const;

  const Indexer& store() const { return store_; }
  const GroupVersionResource& resource() const { return gvr_; }
  std::string last_resource_version() const { return reflector_.last_resource_version(); }

 private:
  void replace(std::vector<nlohmann::json> items) override;
  void apply(WatchEvent event) override;

  GroupVersionResource gvr_;
  Indexer store_;
  std::mutex handlers_mutex_;
  std::vector<EventHandlers> handlers_;
  Reflector reflector_;
};

}  // namespace llmops::kube
