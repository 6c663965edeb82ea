// llmops-devcluster --listen 127.0.0.1:PORT --data-dir DIR
// A single-process Kubernetes API server for trying llmops on one machine and for
// integration tests. Everything it needs to restart lives in DIR.
#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "api_server.h"
#include "container_spec.h"
#include "controller_loop.h"
#include "devcluster_flags.h"
#include "endpoints_controller.h"
#include "kubelet.h"
#include "kubelet_command.h"
#include "llmops/common/flags.h"
#include "llmops/common/http_server.h"
#include "llmops/common/logging.h"
#include "local_client.h"
#include "node_controller.h"
#include "object_store.h"
#include "pod_logs.h"
#include "pod_network.h"
#include "resource_registry.h"
#include "scheduler.h"
#include "tls_material.h"

using llmops::FlagSet;
using llmops::UsageError;
using llmops::devcluster::addImageMapFlag;
using llmops::devcluster::addListenFlag;
using llmops::devcluster::addRestartBackoffFlag;

namespace {

struct Flags {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string dataDir;
  int watchHistory = 10000;
  int bookmarkIntervalMs = 5000;
  int threads = 4;
  int nodes = 1;
  std::string podCidr;  // empty: the data directory's own /24
  std::map<std::string, std::string> imageMap;
  double restartBackoffSeconds = 10;
};

// The flags, bound to `flags`; the help text is written from these declarations.
FlagSet flagSet(Flags& flags) {
  FlagSet set(
      "usage: llmops-devcluster --listen HOST:PORT --data-dir DIR [flags]\n"
      "       llmops-devcluster kubelet --kubeconfig FILE --node-name NAME ... (--help)",
      "A kubectl-compatible Kubernetes API server with its controllers and kubelet.");
  addListenFlag(set, &flags.host, &flags.port,
                "where the API server listens (port 0: any free port)");
  set.text("--data-dir", &flags.dataDir, "objects, TLS material and logs", "DIR")
      .integer("--watch-history", &flags.watchHistory, "watch events kept for resumption", 0,
               100000000, "EVENTS")
      .integer("--bookmark-interval-ms", &flags.bookmarkIntervalMs, "period of watch bookmarks", 1,
               86400000, "MS")
      .integer("--threads", &flags.threads, "HTTP worker threads", 1, 1024)
      .integer("--nodes", &flags.nodes, "nodes sharing the machine", 1, 64)
      .text("--pod-cidr", &flags.podCidr, "pod IPs, inside 127.0.0.0/8 (a /24 of its own)", "CIDR");
  addImageMapFlag(set, &flags.imageMap);
  addRestartBackoffFlag(set, &flags.restartBackoffSeconds);
  return set;
}

[[noreturn]] void usage(const std::string& error) {
  Flags defaults;
  flagSet(defaults).exit_with_usage(error);
}

Flags parseFlags(int argc, char** argv) {
  Flags flags;
  FlagSet set = flagSet(flags);
  set.parse_or_exit(argc, argv);
  if (!set.seen("--listen")) usage("--listen is required");
  if (flags.dataDir.empty()) usage("--data-dir is required");
  return flags;
}

int recordedPort(const std::string& dataDir) {
  std::ifstream in(dataDir + "/port");
  int port = 0;
  if (in >> port) return port;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace llmops;
  using namespace llmops::devcluster;
  setup_logging("info", "llmops-devcluster");
  if (argc > 1 && std::string(argv[1]) == "kubelet") {
    return runKubeletCommand(argc - 1, argv + 1);
  }
  Flags flags = parseFlags(argc, argv);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // threads inherit; main waits below
  std::signal(SIGPIPE, SIG_IGN);

  try {
    std::filesystem::create_directories(flags.dataDir);
    TlsMaterial tls = ensureTlsMaterial(flags.dataDir, flags.host);
    ObjectStore store({flags.dataDir, static_cast<std::size_t>(flags.watchHistory), 5000});
    ResourceRegistry registry;
    ApiServer api(store, registry,
                  {tls.token, flags.dataDir + "/access.log", "",
                   std::chrono::milliseconds(flags.bookmarkIntervalMs)});
    api.bootstrap();
    PodCidr podCidr;
    try {
      podCidr = choosePodCidr(flags.dataDir, flags.podCidr);
    } catch (const std::invalid_argument& error) {
      usage(error.what());
    }

    // The cluster's moving parts, each a level-triggered loop woken by store events.
    LocalClient nodeClient(api, "llmops-devcluster/node-controller");
    LocalClient schedulerClient(api, "llmops-devcluster/default-scheduler");
    LocalClient kubeletClient(api, "llmops-devcluster/kubelet");
    LocalClient endpointsClient(api, "llmops-devcluster/endpoints-controller");
    NodeControllerOptions nodeOptions;
    nodeOptions.nodes = flags.nodes;
    nodeOptions.podCidr = podCidr.toString();
    NodeController nodes(nodeClient, nodeOptions);
    Scheduler scheduler(schedulerClient);
    KubeletOptions kubeletOptions;
    kubeletOptions.nodeNames = nodes.nodeNames();
    kubeletOptions.podCidr = podCidr;
    kubeletOptions.dataDir = flags.dataDir;
    kubeletOptions.images = ImageResolver(selfExecutableDir(), flags.imageMap);
    kubeletOptions.initialBackoff =
        std::chrono::milliseconds(static_cast<int64_t>(flags.restartBackoffSeconds * 1000));
    kubeletOptions.maxBackoff =
        std::max(kubeletOptions.initialBackoff, std::chrono::milliseconds(300000));
    Kubelet kubelet(kubeletClient, kubeletOptions);
    EndpointsController endpoints(endpointsClient);
    api.setLogHandler([&store, &kubelet](const ApiRequest& request,
                                         std::shared_ptr<http::ResponseWriter> writer) {
      servePodLog(store, kubelet, request, std::move(writer));
    });

    http::ServerOptions options;
    options.address = flags.host;
    options.threads = flags.threads;
    options.tls = http::TlsFiles{tls.serverCertificatePath, tls.serverKeyPath, ""};
    options.errorResponse = statusResponse;
    // Port 0 on a directory that already served reuses its port, so old kubeconfigs work.
    int port = flags.port != 0 ? flags.port : recordedPort(flags.dataDir);
    options.port = static_cast<uint16_t>(port);
    auto server = std::make_unique<http::HttpServer>(
        options,
        [&api](const http::Request& request, std::shared_ptr<http::ResponseWriter> writer) {
          api.handle(request, std::move(writer));
        });
    try {
      server->start();
    } catch (const std::runtime_error& error) {
      if (flags.port != 0 || port == 0) throw;
      spdlog::warn("event=recorded_port_busy port={} error=\"{}\"", port, error.what());
      options.port = 0;
      server = std::make_unique<http::HttpServer>(
          options,
          [&api](const http::Request& request, std::shared_ptr<http::ResponseWriter> writer) {
            api.handle(request, std::move(writer));
          });
      server->start();
    }
    const int boundPort = server->port();
    api.setServerAddress(flags.host + ":" + std::to_string(boundPort));
    writeKubeconfig(flags.dataDir, tls, flags.host, boundPort);
    {
      std::ofstream out(flags.dataDir + "/port.tmp", std::ios::trunc);
      out << boundPort << "\n";
    }
    std::filesystem::rename(flags.dataDir + "/port.tmp", flags.dataDir + "/port");
    kubelet.setApiServerPort(std::to_string(boundPort));
    using std::chrono::milliseconds;
    ControllerLoop nodeLoop("node", milliseconds(1000), [&nodes] { nodes.step(); });
    ControllerLoop schedulerLoop("scheduler", milliseconds(1000),
                                 [&scheduler] { scheduler.step(); });
    ControllerLoop kubeletLoop("kubelet", milliseconds(250), [&kubelet] { kubelet.step(); });
    ControllerLoop endpointsLoop("endpoints", milliseconds(1000),
                                 [&endpoints] { endpoints.step(); });
    // Empties Terminating namespaces, also those a crash interrupted (it runs at start).
    ControllerLoop namespaceLoop("namespace", milliseconds(1000), [&api] {
      while (api.finalizeNamespaces(100)) {
      }
    });
    uint64_t watchId = store.watch("", store.resourceVersion(), [&](const StoreEvent& event) {
      if (event.resource == "/pods") {
        schedulerLoop.wake();
        kubeletLoop.wake();
        endpointsLoop.wake();
      } else if (event.resource == "/services") {
        endpointsLoop.wake();
      } else if (event.resource == "/nodes") {
        schedulerLoop.wake();
      } else if (event.resource == "/namespaces") {
        namespaceLoop.wake();
      }
    });
    for (auto* loop : {&nodeLoop, &schedulerLoop, &kubeletLoop, &endpointsLoop, &namespaceLoop}) {
      loop->start();
    }
    nodeLoop.wake();
    namespaceLoop.wake();
    spdlog::info("event=cluster_started nodes={} pod_cidr={}", flags.nodes, podCidr.toString());
    spdlog::info("event=listening address=https://{}:{} data_dir={} resource_version={}",
                 flags.host, boundPort, flags.dataDir, store.resourceVersion());
    int received = 0;
    sigwait(&signals, &received);
    spdlog::info("event=stopping signal={}", received);
    store.unwatch(watchId);
    kubelet.shutdown(std::chrono::seconds(5));
    for (auto* loop : {&namespaceLoop, &kubeletLoop, &schedulerLoop, &endpointsLoop, &nodeLoop}) {
      loop->stop();
    }
    server->stop();
  } catch (const std::exception& error) {
    spdlog::error("event=fatal error=\"{}\"", error.what());
    return 1;
  }
  return 0;
}
