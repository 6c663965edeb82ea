// Runs controllers the way controller-runtime's Manager does: shared informers started on
// every replica (so a new leader has warm caches), controllers started only while this
// process leads (when leader election is on) and only once their caches are synced,
// /metrics, /healthz and /readyz (all caches synced) served over HTTP, and an orderly
// stop: workers finish their item, then the lease is released, then caches and servers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "llmops/kube/controller.h"
#include "llmops/kube/event_recorder.h"
#include "llmops/kube/informer.h"
#include "llmops/kube/kube_client.h"
#include "llmops/kube/kubeconfig.h"
#include "llmops/kube/leader_election.h"
#include "llmops/kube/metrics.h"

namespace llmops::http {
class HttpServer;
}

namespace llmops::kube {

struct ManagerOptions {
  RestConfig rest;
  std::string watch_namespace;                // "" = all namespaces
  std::string metrics_addr = "0.0.0.0:8080";  // HOST:PORT; "0" disables
  std::string health_addr = "0.0.0.0:8081";
  bool leader_elect = false;
  LeaderElectionConfig leader_election;  // callbacks are the manager's own
  std::string component = "llmops-operator";
};

class Manager {
 public:
  explicit Manager(ManagerOptions options);
  ~Manager();

  std::shared_ptr<KubeClient> client() { return client_; }
  OperatorMetrics& metrics() { return metrics_; }
  EventRecorder& events() { return *events_; }
  const ManagerOptions& options() const { return options_; }
  // The shared informer for a resource in the watched namespace (created once).
  Informer& informer_for(const GroupVersionResource& gvr);
  // The same, restricted to objects matching a label selector (e.g. "llmops.dev/deployment"):
  // one shared informer per (resource, selector).
  Informer& informer_for(const GroupVersionResource& gvr, const std::string& label_selector);
  Controller& add_controller(ControllerOptions options, Reconciler reconciler);

  // Blocks until stop() or lost leadership. Returns the exit status: 0 after stop(),
  // 1 when leadership was lost (the process should exit and be restarted).
  int run();
  // Safe from any thread (e.g. a signal-waiting thread).
  void stop();
  bool caches_synced() const;
  bool is_leader() const;

 private:
  void start_servers();
  void serve(const std::string& what, const std::string& address);

  ManagerOptions options_;
  OperatorMetrics metrics_;
  std::shared_ptr<KubeClient> client_;
  std::unique_ptr<EventRecorder> events_;
  std::unique_ptr<LeaderElector> elector_;
  std::map<std::string, std::unique_ptr<Informer>> informers_;
  std::vector<std::unique_ptr<Controller>> controllers_;
  std::vector<std::unique_ptr<http::HttpServer>> servers_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool leading_ = false;
  bool lost_ = false;
};

}  // namespace llmops::kube
