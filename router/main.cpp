// llmops-router: the traffic-splitting data plane in front of llmops-runtime pods.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "llmops/common/http_server.h"
#include "llmops/common/logging.h"
#include "llmops/kube/curl_transport.h"
#include "llmops/kube/kube_client.h"
#include "llmops/kube/kubeconfig.h"
#include "llmops/kube/operator_cli.h"
#include "llmops/version.h"
#include "router/proxy_server.h"
#include "router/route_sources.h"
#include "router/router_cli.h"

using namespace llmops;
using namespace llmops::router;

namespace {

int wait_for_signal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  return signal_number;
}

}  // namespace

int main(int argc, char** argv) {
  kube::block_termination_signals();
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--version") {
      std::cout << "llmops-router " << llmops::kVersion << "\n";
      return 0;
    }
  }
  RouterFlags flags;
  try {
    flags = parse_router_flags(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const UsageError& error) {
    std::cerr << "error: " << error.what() << "\n" << router_usage();
    return 2;
  }
  if (flags.help) {
    std::cout << "llmops-router " << llmops::kVersion << "\n" << router_usage();
    return 0;
  }
  setup_logging("info");
  try {
    RouterMetrics metrics;
    RequestRouter router;
    std::atomic<bool> have_routes{false};
    auto on_table = [&](RoutingTable table) {
      for (const auto& deployment : table.deployments) {
        std::string revisions;
        for (const auto& revision : deployment.revisions) {
          int ready = 0;
          for (const auto& endpoint : revision.endpoints) ready += endpoint.ready;
          revisions += " r" + std::to_string(revision.revision) + "=" +
                       std::to_string(revision.weight) + "/" + std::to_string(ready) + "ready";
        }
        spdlog::debug("event=routes deployment={}/{} model={}{}", deployment.ns, deployment.name,
                      deployment.model, revisions);
      }
      metrics.publish_table(table, [&](const Endpoint& endpoint) {
        return router.balancer().ejected(endpoint.address());
      });
      router.apply(std::move(table));
      have_routes = true;
    };

    std::unique_ptr<StaticRouteSource> static_source;
    std::unique_ptr<KubeRouteSource> kube_source;
    if (!flags.static_config.empty()) {
      static_source = std::make_unique<StaticRouteSource>(flags.static_config, on_table);
      static_source->start();
    } else {
      kube::RestConfig config =
          flags.in_cluster ? kube::in_cluster_config() : kube::load_kubeconfig(flags.kubeconfig);
      kube::CurlTransportOptions transport_options;
      transport_options.user_agent = std::string("llmops-router/") + llmops::kVersion;
      auto transport = std::make_shared<kube::CurlTransport>(config, transport_options);
      auto client = std::make_shared<kube::KubeClient>(transport);
      kube_source = std::make_unique<KubeRouteSource>(client, on_table);
      kube_source->start();
      spdlog::info("event=watching server={} resources=llmdeployments,pods", config.server);
    }

    ProxyOptions options;
    options.address = flags.listen.host;
    options.port = flags.listen.port;
    options.threads = std::max(2u, std::thread::hardware_concurrency());
    options.serve_metrics = !flags.has_metrics_addr;
    options.first_byte_timeout =
        std::chrono::milliseconds(static_cast<int64_t>(flags.first_byte_timeout_seconds * 1000));
    auto ready = [&] { return have_routes.load(); };
    ProxyServer proxy(options, router, metrics, ready);
    proxy.start();

    std::unique_ptr<http::HttpServer> metrics_server;
    if (flags.has_metrics_addr) {
      http::ServerOptions metrics_options;
      metrics_options.address = flags.metrics_addr.host;
      metrics_options.port = flags.metrics_addr.port;
      metrics_options.threads = 1;
      metrics_server = std::make_unique<http::HttpServer>(
          metrics_options,
          [&](const http::Request& request, std::shared_ptr<http::ResponseWriter> writer) {
            const std::string path = request.target.substr(0, request.target.find('?'));
            if (path == "/metrics") {
              return writer->send(
                  {200, {{"Content-Type", "text/plain; version=0.0.4"}}, metrics.serialize()});
            }
            if (path == "/healthz")
              return writer->send({200, {{"Content-Type", "text/plain"}}, "ok\n"});
            if (path == "/readyz") {
              return writer->send({ready() ? 200 : 503,
                                   {{"Content-Type", "text/plain"}},
                                   ready() ? "ok\n" : "no routes yet\n"});
            }
            writer->send({404, {{"Content-Type", "text/plain"}}, "not found\n"});
          });
      metrics_server->start();
      spdlog::info("event=metrics_listening address={}:{}", flags.metrics_addr.host,
                   metrics_server->port());
    }
    spdlog::info("event=listening address={}:{} mode={}", flags.listen.host, proxy.port(),
                 static_source ? "static" : "kubernetes");
    // Tests and scripts read the chosen port from stdout.
    std::cout << "listening on " << flags.listen.host << ":" << proxy.port() << std::endl;

    const int signal_number = wait_for_signal();
    spdlog::info("event=draining signal={} in_flight={}", signal_number, proxy.active_requests());
    const bool drained = proxy.drain(std::chrono::seconds(30));
    spdlog::info("event=stopped drained={}", drained);
    proxy.stop();
    if (metrics_server) metrics_server->stop();
    if (kube_source) kube_source->stop();
    if (static_source) static_source->stop();
    return 0;
  } catch (const std::exception& error) {
    spdlog::error("event=fatal error=\"{}\"", error.what());
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
}
