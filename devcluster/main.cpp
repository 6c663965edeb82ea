// llmops-devcluster --listen 127.0.0.1:PORT --data-dir DIR
// A single-process Kubernetes API server for trying llmops on one machine and for
// integration tests. Everything it needs to restart lives in DIR.
#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "api_server.h"
#include "llmops/common/http_server.h"
#include "object_store.h"
#include "resource_registry.h"
#include "tls_material.h"

namespace {

struct Flags {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string dataDir;
  std::size_t watchHistory = 10000;
  int bookmarkIntervalMs = 5000;
  int threads = 4;
};

[[noreturn]] void usage(const std::string& error) {
  std::cerr << "error: " << error << "\n"
            << "usage: llmops-devcluster --listen HOST:PORT --data-dir DIR\n"
            << "  [--watch-history EVENTS]      watch events kept for resumption (10000)\n"
            << "  [--bookmark-interval-ms MS]   period of watch bookmarks (5000)\n"
            << "  [--threads N]                 HTTP worker threads (4)\n";
  std::exit(2);
}

Flags parseFlags(int argc, char** argv) {
  Flags flags;
  bool listenSet = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(arg + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--listen") {
        std::string listen = value();
        auto colon = listen.rfind(':');
        if (colon == std::string::npos) usage("--listen wants HOST:PORT");
        flags.host = listen.substr(0, colon);
        flags.port = std::stoi(listen.substr(colon + 1));
        if (flags.port < 0 || flags.port > 65535) usage("port out of range");
        listenSet = true;
      } else if (arg == "--data-dir") {
        flags.dataDir = value();
      } else if (arg == "--watch-history") {
        flags.watchHistory = std::stoul(value());
      } else if (arg == "--bookmark-interval-ms") {
        flags.bookmarkIntervalMs = std::stoi(value());
      } else if (arg == "--threads") {
        flags.threads = std::stoi(value());
      } else {
        usage("unknown flag " + arg);
      }
    } catch (const std::logic_error&) {
      usage("invalid value for " + arg);
    }
  }
  if (!listenSet) usage("--listen is required");
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
  Flags flags = parseFlags(argc, argv);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // threads inherit; main waits below
  std::signal(SIGPIPE, SIG_IGN);

  try {
    std::filesystem::create_directories(flags.dataDir);
    TlsMaterial tls = ensureTlsMaterial(flags.dataDir);
    ObjectStore store({flags.dataDir, flags.watchHistory, 5000});
    ResourceRegistry registry;
    ApiServer api(store, registry,
                  {tls.token, flags.dataDir + "/access.log", "",
                   std::chrono::milliseconds(flags.bookmarkIntervalMs)});
    api.bootstrap();

    http::ServerOptions options;
    options.address = flags.host;
    options.threads = flags.threads;
    options.tls = http::TlsFiles{tls.serverCertificatePath, tls.serverKeyPath};
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
    spdlog::info("event=listening address=https://{}:{} data_dir={} resource_version={}",
                 flags.host, boundPort, flags.dataDir, store.resourceVersion());
    int received = 0;
    sigwait(&signals, &received);
    spdlog::info("event=stopping signal={}", received);
    server->stop();
  } catch (const std::exception& error) {
    spdlog::error("event=fatal error=\"{}\"", error.what());
    return 1;
  }
  return 0;
}
