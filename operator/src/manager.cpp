#include "llmops/kube/manager.h"

#include <spdlog/spdlog.h>

#include "llmops/common/host_port.h"
#include "llmops/common/http_server.h"
#include "llmops/kube/curl_transport.h"

namespace llmops::kube {

Manager::Manager(ManagerOptions options) : options_(std::move(options)) {
  ClientOptions client_options;
  client_options.observer = metrics_.request_observer();
  client_options.field_manager = options_.component;
  auto transport = std::make_shared<CurlTransport>(options_.rest);
  if (options_.leader_elect) {
    // Fencing: controller writes only while the Lease is ours, and never outliving it.
    client_options.write_budget = [this]() -> std::optional<std::chrono::milliseconds> {
      return elector_ ? elector_->leadership_left() : std::chrono::milliseconds(0);
    };
  }
  client_ = std::make_shared<KubeClient>(transport, client_options);
  if (options_.leader_elect) {
    LeaderElectionConfig config = options_.leader_election;
    // The elector's own requests are not fenced (they renew the Lease) but each gives up
    // within half the renew deadline, so a partition is noticed in time.
    ClientOptions elector_options;
    elector_options.observer = metrics_.request_observer();
    elector_options.field_manager = options_.component;
    elector_options.request_timeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(config.renew_deadline) / 2;
    elector_options.retry.max_attempts = 1;  // the elector tries again every retry period
    auto elector_client = std::make_shared<KubeClient>(transport, elector_options);
    config.on_started_leading = [this] {
      std::lock_guard lock(mutex_);
      leading_ = true;
      metrics_.set_leader(true);
      changed_.notify_all();
    };
    config.on_stopped_leading = [this] { metrics_.set_leader(false); };
    elector_ = std::make_unique<LeaderElector>(elector_client, std::move(config));
  }
  std::string instance = elector_ ? elector_->config().identity : default_identity();
  events_ = std::make_unique<EventRecorder>(client_, options_.component, instance);
}

Manager::~Manager() {
  stop();
}

Informer& Manager::informer_for(const GroupVersionResource& gvr) {
  return informer_for(gvr, "");
}

Informer& Manager::informer_for(const GroupVersionResource& gvr,
                                const std::string& label_selector) {
  std::lock_guard lock(mutex_);
  auto& slot =
      informers_[label_selector.empty() ? gvr.describe() : gvr.describe() + "?" + label_selector];
  if (!slot) {
    ReflectorOptions reflector;
    reflector.label_selector = label_selector;
    reflector.on_watch_restart = metrics_.watch_restart_observer(gvr.describe());
    slot = std::make_unique<Informer>(client_, gvr, gvr.namespaced ? options_.watch_namespace : "",
                                      reflector);
  }
  return *slot;
}

Controller& Manager::add_controller(ControllerOptions options, Reconciler reconciler) {
  options.metrics = &metrics_;
  std::lock_guard lock(mutex_);
  controllers_.push_back(std::make_unique<Controller>(std::move(options), std::move(reconciler)));
  return *controllers_.back();
}

bool Manager::caches_synced() const {
  std::lock_guard lock(mutex_);
  for (const auto& [name, informer] : informers_) {
    if (!informer->has_synced()) return false;
  }
  return true;
}

bool Manager::is_leader() const {
  std::lock_guard lock(mutex_);
  return leading_;
}

void Manager::serve(const std::string& what, const std::string& address) {
  if (address == "0" || address.empty()) return;
  auto [host, port] = parse_host_port(address, "--" + what + "-addr", EmptyHost::kAnyAddress);
  http::ServerOptions server_options;
  server_options.address = host;
  server_options.port = port;
  server_options.threads = 1;
  bool metrics = what == "metrics" || address == options_.health_addr;
  bool health = what == "health" || address == options_.metrics_addr;
  auto server = std::make_unique<http::HttpServer>(
      server_options, [this, metrics, health](const http::Request& request,
                                              std::shared_ptr<http::ResponseWriter> writer) {
        std::string path = request.target.substr(0, request.target.find('?'));
        http::Response response;
        response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
        if (metrics && path == "/metrics") {
          response.headers[0].second = "text/plain; version=0.0.4; charset=utf-8";
          response.body = metrics_.render();
        } else if (health && path == "/healthz") {
          response.body = "ok\n";
        } else if (health && path == "/readyz") {
          bool synced = caches_synced();
          response.status = synced ? 200 : 503;
          response.body = synced ? "ok\n" : "caches not synced\n";
        } else {
          response.status = 404;
          response.body = "not found\n";
        }
        writer->send(std::move(response));
      });
  server->start();
  spdlog::info("event=serving what={} address={}:{}", what, host, server->port());
  servers_.push_back(std::move(server));
}

void Manager::start_servers() {
  serve("metrics", options_.metrics_addr);
  if (options_.health_addr != options_.metrics_addr) serve("health", options_.health_addr);
}

int Manager::run() {
  spdlog::info("event=starting component={} server={} context={} namespace={} leader_elect={}",
               options_.component, options_.rest.server, options_.rest.context_name,
               options_.watch_namespace.empty() ? "*" : options_.watch_namespace,
               options_.leader_elect);
  start_servers();
  {
    std::lock_guard lock(mutex_);
    for (auto& [name, informer] : informers_) informer->start();
  }
  std::thread election;
  if (elector_) {
    election = std::thread([this] {
      if (!elector_->run()) {
        std::lock_guard lock(mutex_);
        lost_ = true;
        stopping_ = true;
        changed_.notify_all();
      }
    });
  } else {
    std::lock_guard lock(mutex_);
    leading_ = true;
  }
  bool controllers_started = false;
  {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (leading_ && !controllers_started) {
        lock.unlock();
        bool synced = caches_synced();
        lock.lock();
        if (synced) {
          spdlog::info("event=caches_synced informers={}", informers_.size());
          for (auto& controller : controllers_) controller->start();
          controllers_started = true;
          continue;
        }
        changed_.wait_for(lock, std::chrono::milliseconds(50));
        continue;
      }
      changed_.wait(lock);
    }
  }
  spdlog::info("event=stopping lost_leadership={}", lost_);
  for (auto& controller : controllers_) controller->stop();  // finish current items
  if (elector_) {
    elector_->stop();  // releases the lease, now that no worker acts as leader
    if (election.joinable()) election.join();
  }
  for (auto& [name, informer] : informers_) informer->stop();
  for (auto& server : servers_) server->stop();
  spdlog::info("event=stopped");
  return lost_ ? 1 : 0;
}

void Manager::stop() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  changed_.notify_all();
}

}  // namespace llmops::kube
