// Keeps a sink in step with the server for one resource: list, then watch from the
// list's resourceVersion (with bookmarks and a jittered timeout), re-watch from the last
// seen version when a watch ends, relist when the server says that version expired (410),
// and back off exponentially on errors. Runs on its own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "llmops/kube/kube_client.h"

namespace llmops::kube {

class ReflectorSink {
 public:
  virtual ~ReflectorSink() = default;
  // The complete current state (after a list).
  virtual void replace(std::vector<nlohmann::json> items) = 0;
  // One ADDED, MODIFIED or DELETED event.
  virtual void apply(WatchEvent event) = 0;
};

struct ReflectorOptions {
  std::string label_selector;
  std::string field_selector;
  int page_size = 500;
  // Each watch asks the server to end it after a random time in [min, 2*min), so that
  // many clients do not reconnect together (client-go: 5-10 minutes).
  std::chrono::seconds min_watch_timeout{300};
  std::chrono::milliseconds initial_backoff{800};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(30)};
  // Called each time the watch is restarted after a failure or expiry ("expired",
  // "error"); not for the routine end of a watch at its timeout.
  std::function<void(const std::string& reason)> on_watch_restart;
};

class Reflector {
 public:
  Reflector(std::shared_ptr<KubeClient> client, GroupVersionResource gvr, std::string ns,
            ReflectorSink& sink, ReflectorOptions options = {});
  ~Reflector();
  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  void start();
  // Ends the current watch and joins the thread. Idempotent.
  void stop();
  // True once the first list reached the sink.
  bool has_synced() const { return synced_.load(); }
  std::string last_resource_version() const;

 private:
  void run();
  void list_and_replace();
  void watch_once();
  // Sleeps for the current backoff (or until stop) and doubles it.
  void back_off();

  std::shared_ptr<KubeClient> client_;
  GroupVersionResource gvr_;
  std::string namespace_;
  ReflectorSink& sink_;
  ReflectorOptions options_;
  std::atomic<bool> running_{false};
  std::atomic<bool> synced_{false};
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::string resource_version_;
  std::chrono::milliseconds backoff_;
  std::thread thread_;
};

}  // namespace llmops::kube
