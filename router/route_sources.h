// Where routes come from. Static mode reads a YAML file and reloads it when it changes;
// Kubernetes mode watches LLMDeployments (spec.model.name, status.traffic,
// status.stableRevision) and their Pods (IP, readiness, llmops.dev/revision, the port
// named "http") through the operator's client library. Both hand whole tables to a
// callback; a bad file or object is reported and never replaces a good table.
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "router/routing_table.h"

namespace llmops::kube {
class Informer;
class KubeClient;
}  // namespace llmops::kube

namespace llmops::router {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using TableCallback = std::function<void(RoutingTable)>;

// Parses the static YAML format:
//   deployments:
//     - name: storyteller            # matched against the request's "model"
//       stable: 1                    # optional: where failed canary requests retry
//       revisions:
//         - {revision: 1, weight: 90, endpoints: ["127.0.0.1:18081"]}
// Throws ConfigError naming the entry and field at fault.
RoutingTable parse_static_config(const std::string& yaml_text);

// Pure: the routes for LLMDeployment and Pod objects (as the API returns them).
// Deployments without status.traffic route to status.stableRevision, else nowhere;
// pods count when they carry both llmops.dev labels, have an IP and a port named
// "http"; they are ready when Running, Ready=True and not being deleted.
RoutingTable build_kube_routes(const std::vector<nlohmann::json>& deployments,
                               const std::vector<nlohmann::json>& pods,
                               std::vector<std::string>* warnings = nullptr);

// When a changed static file may be applied: once its fingerprint (inode, size, mtime)
// has stayed the same for `quiet`, so that a file written in place in several steps is
// read only after the writer finished. (Writing a new file and renaming it over the old
// one is still the safe way: the router never sees a partial file then.)
class ReloadDebouncer {
 public:
  explicit ReloadDebouncer(std::chrono::milliseconds quiet) : quiet_(quiet) {}
  // At each poll: true when the file, as `fingerprint` says it is now, should be loaded.
  bool ready(const std::string& fingerprint, std::chrono::steady_clock::time_point now);
  // What became of the version last reported ready.
  void loaded(const std::string& fingerprint);
  void rejected(const std::string& fingerprint);

 private:
  std::chrono::milliseconds quiet_;
  std::string loaded_;
  std::string rejected_;
  std::string pending_;
  std::chrono::steady_clock::time_point pending_since_{};
};

class StaticRouteSource {
 public:
  // Polls the file every `poll_interval`; applies a change after `quiet` without changes.
  StaticRouteSource(std::filesystem::path path, TableCallback on_table,
                    std::chrono::milliseconds poll_interval = std::chrono::milliseconds(500),
                    std::chrono::milliseconds quiet = std::chrono::milliseconds(1000));
  ~StaticRouteSource();
  // Loads the file once (throws ConfigError) and starts watching it for changes.
  void start();
  void stop();

 private:
  void watch();
  std::string fingerprint() const;

  std::filesystem::path path_;
  TableCallback on_table_;
  std::chrono::milliseconds poll_interval_;
  ReloadDebouncer debouncer_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

class KubeRouteSource {
 public:
  KubeRouteSource(std::shared_ptr<kube::KubeClient> client, TableCallback on_table);
  ~KubeRouteSource();
  void start();
  void stop();
  bool synced() const;

 private:
  void rebuild_loop();

  TableCallback on_table_;
  std::unique_ptr<kube::Informer> deployments_;
  std::unique_ptr<kube::Informer> pods_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool dirty_ = false;
  bool stopping_ = false;
  std::atomic<bool> published_{false};
  std::thread thread_;
};

}  // namespace llmops::router
