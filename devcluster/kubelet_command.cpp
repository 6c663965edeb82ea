#include "kubelet_command.h"

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
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
#include "kubelet.h"
#include "llmops/common/http_server.h"
#include "llmops/kube/api_error.h"
#include "llmops/kube/curl_transport.h"
#include "llmops/kube/informer.h"
#include "llmops/kube/kube_client.h"
#include "llmops/kube/kubeconfig.h"
#include "node_controller.h"
#include "pod_logs.h"
#include "pod_network.h"
#include "remote_client.h"
#include "request_info.h"
#include "status.h"
#include "tls_material.h"

namespace llmops::devcluster {

namespace {

using Json = nlohmann::json;

// What `kubectl get nodes` shows as VERSION: the API this kubelet was written against.
constexpr const char* kKubeletVersion = "v1.34.0-llmops-process-kubelet";

struct KubeletFlags {
  std::string kubeconfig;
  std::string nodeName;
  std::string dataDir;
  std::string podCidr;
  std::map<std::string, std::string> imageMap;
  double restartBackoffSeconds = 10;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string tlsCertFile, tlsKeyFile, clientCaFile;
};

// The flags, bound to `flags`; the help text is written from these declarations.
FlagSet kubeletFlagSet(KubeletFlags& flags) {
  FlagSet set("usage: llmops-devcluster kubelet --kubeconfig FILE --node-name NAME [flags]",
              "A kubelet that runs pods as local processes, registered with any API server.");
  set.text("--kubeconfig", &flags.kubeconfig, "how to reach the API server", "FILE")
      .text("--node-name", &flags.nodeName, "the Node this kubelet registers", "NAME")
      .text("--data-dir", &flags.dataDir,
            "pods' logs and files, pod-cidr, serving certificate\n"
            "(~/.local/state/llmops/kubelet-NAME)",
            "DIR")
      .text("--pod-cidr", &flags.podCidr, "pod IPs, inside 127.0.0.0/8 (a /24 of its own)", "CIDR");
  addImageMapFlag(set, &flags.imageMap);
  addRestartBackoffFlag(set, &flags.restartBackoffSeconds);
  addListenFlag(set, &flags.host, &flags.port, "the kubelet's HTTPS port for logs", "127.0.0.1:0");
  set.text("--tls-cert-file", &flags.tlsCertFile,
           "its certificate, with --tls-private-key-file (else one\n"
           "made in DATA/tls, signed by a CA of its own)",
           "F")
      .text("--tls-private-key-file", &flags.tlsKeyFile, "the certificate's key", "F")
      .text("--client-ca-file", &flags.clientCaFile,
            "CA of the API server's client certificate\n(default: the kubeconfig's cluster CA)",
            "F");
  return set;
}

[[noreturn]] void usage(const std::string& error) {
  KubeletFlags defaults;
  kubeletFlagSet(defaults).exit_with_usage(error);
}

KubeletFlags parseFlags(int argc, char** argv) {
  KubeletFlags flags;
  kubeletFlagSet(flags).parse_or_exit(argc, argv);
  if (flags.kubeconfig.empty()) usage("--kubeconfig is required");
  if (flags.nodeName.empty()) usage("--node-name is required");
  if (flags.tlsCertFile.empty() != flags.tlsKeyFile.empty()) {
    usage("--tls-cert-file and --tls-private-key-file go together");
  }
  if (flags.dataDir.empty()) {
    const char* state = std::getenv("XDG_STATE_HOME");
    const char* home = std::getenv("HOME");
    if (state && *state) {
      flags.dataDir = std::string(state) + "/llmops/kubelet-" + flags.nodeName;
    } else if (home && *home) {
      flags.dataDir = std::string(home) + "/.local/state/llmops/kubelet-" + flags.nodeName;
    } else {
      usage("--data-dir is required when $HOME is not set");
    }
  }
  return flags;
}

// Host and port of https://host:port, for the pods' KUBERNETES_SERVICE_HOST/PORT.
std::pair<std::string, std::string> hostAndPort(const std::string& server) {
  std::string rest = server;
  const std::string scheme = "https://";
  if (rest.rfind(scheme, 0) != 0) {
    throw kube::ConfigError("the kubeconfig's server must be https://HOST:PORT, not " + server);
  }
  rest = rest.substr(scheme.size());
  if (auto slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
  std::string host, port = "443";
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
    auto close = rest.find(']');
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  } else {
    host = rest;
  }
  return {host, port};
}

// Runs one loop's step; a failure is logged when it first happens, when it changes and
// every 30 s while it lasts (not every step), and the recovery once. The step is retried
// by the loop; nothing running is stopped because the API server cannot be reached.
class RetryingStep {
 public:
  RetryingStep(std::string component, std::string nodeName, std::function<void()> step)
      : component_(std::move(component)), nodeName_(std::move(nodeName)), step_(std::move(step)) {}

  void operator()() {
    try {
      step_();
      if (failing_) {
        spdlog::info("event=api_recovered component={} after_failures={}", component_, failures_);
        failing_ = false;
        failures_ = 0;
      }
    } catch (const std::exception& error) {
      ++failures_;
      const std::string message = describe(error);
      const auto now = std::chrono::steady_clock::now();
      if (!failing_ || message != lastMessage_ || now - lastLogged_ >= std::chrono::seconds(30)) {
        spdlog::warn(
            "event=api_request_failed component={} failures={} error=\"{}\" "
            "action=\"retrying; running pods are kept\"",
            component_, failures_, message);
        lastLogged_ = now;
        lastMessage_ = message;
      }
      failing_ = true;
    }
  }

 private:
  std::string describe(const std::exception& error) const {
    std::string message = error.what();
    if (const auto* api = dynamic_cast<const ApiError*>(&error)) {
      if (api->code() == 403) {
        message += " (forbidden: a kubelet must authenticate as user system:node:" + nodeName_ +
                   " in group system:nodes, so that the Node authorizer and NodeRestriction "
                   "admit its requests for node " +
                   nodeName_ + ")";
      } else if (api->code() == 401) {
        message += " (unauthorized: the kubeconfig's credentials were not accepted)";
      }
    } else if (dynamic_cast<const kube::TransportError*>(&error)) {
      message = "the API server is unreachable: " + message;
    }
    return message;
  }

  std::string component_, nodeName_;
  std::function<void()> step_;
  bool failing_ = false;
  int failures_ = 0;
  std::string lastMessage_;
  std::chrono::steady_clock::time_point lastLogged_{};
};

// /containerLogs/<ns>/<pod>/<container> and /healthz; other paths 404.
void serveKubeletRequest(ApiClient& client, Kubelet& kubelet, const http::Request& request,
                         std::shared_ptr<http::ResponseWriter> writer) {
  auto sendError = [&](const ApiError& error) {
    writer->send({error.code(), {{"Content-Type", "application/json"}}, error.toStatus().dump()});
  };
  std::string target = request.target;
  std::string query;
  if (auto mark = target.find('?'); mark != std::string::npos) {
    query = target.substr(mark + 1);
    target = target.substr(0, mark);
  }
  if (target == "/healthz") {
    writer->send({200, {{"Content-Type", "text/plain"}}, "ok"});
    return;
  }
  const std::string prefix = "/containerLogs/";
  if (request.method != "GET" || target.rfind(prefix, 0) != 0) {
    sendError(ApiError(404, "NotFound", "the process kubelet serves only /containerLogs"));
    return;
  }
  std::vector<std::string> parts;
  std::string rest = target.substr(prefix.size());
  for (size_t start = 0; start <= rest.size();) {
    size_t slash = rest.find('/', start);
    if (slash == std::string::npos) slash = rest.size();
    parts.push_back(percentDecode(rest.substr(start, slash - start)));
    start = slash + 1;
  }
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) {
    sendError(badRequest("expected /containerLogs/<namespace>/<pod>/<container>"));
    return;
  }
  try {
    auto pod = client.get(podPath(parts[0], parts[1]));
    if (!pod) throw notFound("", "pods", parts[1]);
    QueryParams params = parseQuery(query);
    params["container"] = parts[2];
    ApiClient* api = &client;
    PodLookup lookup = [api](const std::string& ns, const std::string& name) {
      return api->get(podPath(ns, name));
    };
    serveContainerLog(std::move(lookup), kubelet, *pod, params, writer);
  } catch (const ApiError& error) {
    sendError(error);
  } catch (const std::exception& error) {
    sendError(ApiError(503, "ServiceUnavailable", error.what()));
  }
}

}  // namespace

int runKubeletCommand(int argc, char** argv) {
  KubeletFlags flags = parseFlags(argc, argv);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    std::filesystem::create_directories(flags.dataDir);
    kube::RestConfig config = kube::load_kubeconfig(flags.kubeconfig);
    auto [apiHost, apiPort] = hostAndPort(config.server);
    PodCidr podCidr;
    try {
      podCidr = choosePodCidr(flags.dataDir, flags.podCidr);
    } catch (const std::invalid_argument& error) {
      usage(error.what());
    }

    // The serving certificate for the API server's log requests, and the CA its client
    // certificate must chain to.
    http::TlsFiles tls;
    if (!flags.tlsCertFile.empty()) {
      tls.certificateChainPem = flags.tlsCertFile;
      tls.privateKeyPem = flags.tlsKeyFile;
    } else {
      TlsMaterial own = ensureTlsMaterial(flags.dataDir + "/tls");
      tls.certificateChainPem = own.serverCertificatePath;
      tls.privateKeyPem = own.serverKeyPath;
    }
    if (!flags.clientCaFile.empty()) {
      tls.clientCaPem = flags.clientCaFile;
    } else {
      if (config.ca_pem.empty()) {
        usage("the kubeconfig has no certificate-authority: give --client-ca-file");
      }
      tls.clientCaPem = flags.dataDir + "/client-ca.crt";
      std::ofstream(tls.clientCaPem, std::ios::trunc) << config.ca_pem;
    }

    kube::CurlTransportOptions transportOptions;
    transportOptions.user_agent = "llmops-kubelet/0.1.0 (node " + flags.nodeName + ")";
    auto transport = std::make_shared<kube::CurlTransport>(config, transportOptions);
    RemoteClient nodeClient(transport), kubeletClient(transport), logClient(transport);

    KubeletOptions kubeletOptions;
    kubeletOptions.nodeNames = {flags.nodeName};
    kubeletOptions.podCidr = podCidr;
    kubeletOptions.dataDir = flags.dataDir;
    kubeletOptions.images = ImageResolver(selfExecutableDir(), flags.imageMap);
    kubeletOptions.initialBackoff =
        std::chrono::milliseconds(static_cast<int64_t>(flags.restartBackoffSeconds * 1000));
    kubeletOptions.maxBackoff =
        std::max(kubeletOptions.initialBackoff, std::chrono::milliseconds(300000));
    kubeletOptions.apiServerHost = apiHost;
    kubeletOptions.apiServerPort = apiPort;
    kubeletOptions.podListPath =
        "/api/v1/pods?fieldSelector=" + kube::url_escape("spec.nodeName=" + flags.nodeName);
    Kubelet kubelet(kubeletClient, kubeletOptions);

    http::ServerOptions serverOptions;
    serverOptions.address = flags.host;
    serverOptions.port = static_cast<uint16_t>(flags.port);
    serverOptions.threads = 2;
    serverOptions.tls = tls;
    serverOptions.errorResponse = statusResponse;
    http::HttpServer server(serverOptions,
                            [&logClient, &kubelet](const http::Request& request,
                                                   std::shared_ptr<http::ResponseWriter> writer) {
                              serveKubeletRequest(logClient, kubelet, request, std::move(writer));
                            });
    server.start();

    NodeControllerOptions nodeOptions;
    nodeOptions.names = {flags.nodeName};
    nodeOptions.labels = {{"node.llmops.dev/process-kubelet", "true"}};
    nodeOptions.kubeletVersion = kKubeletVersion;
    nodeOptions.kubeletPort = server.port();
    NodeController nodes(nodeClient, nodeOptions);

    using std::chrono::milliseconds;
    RetryingStep nodeStep("node", flags.nodeName, [&nodes] { nodes.step(); });
    RetryingStep kubeletStep("kubelet", flags.nodeName, [&kubelet] { kubelet.step(); });
    ControllerLoop nodeLoop("node", milliseconds(1000), [&nodeStep] { nodeStep(); });
    ControllerLoop kubeletLoop("kubelet", milliseconds(1000), [&kubeletStep] { kubeletStep(); });

    // A watch of the node's pods wakes the kubelet at once; the loop's period covers the
    // rest (probes, back-off, grace periods) and any time the watch is down.
    auto kubeClient = std::make_shared<kube::KubeClient>(transport);
    kube::ReflectorOptions watchOptions;
    watchOptions.field_selector = "spec.nodeName=" + flags.nodeName;
    kube::Informer podWatch(kubeClient, {"", "v1", "pods", true}, "", watchOptions);
    kube::EventHandlers wake;
    wake.on_add = [&kubeletLoop](const kube::ObjectPtr&) { kubeletLoop.wake(); };
    wake.on_update = [&kubeletLoop](const kube::ObjectPtr&, const kube::ObjectPtr&) {
      kubeletLoop.wake();
    };
    wake.on_delete = [&kubeletLoop](const kube::ObjectPtr&) { kubeletLoop.wake(); };
    podWatch.add_event_handlers(wake);

    nodeLoop.start();
    kubeletLoop.start();
    podWatch.start();
    nodeLoop.wake();
    spdlog::info(
        "event=kubelet_started node={} api_server={} pod_cidr={} kubelet_address=https://{}:{} "
        "data_dir={}",
        flags.nodeName, config.server, podCidr.toString(), flags.host, server.port(),
        flags.dataDir);
    int received = 0;
    sigwait(&signals, &received);
    spdlog::info("event=stopping signal={}", received);
    podWatch.stop();
    kubelet.shutdown(std::chrono::seconds(5));
    kubeletLoop.stop();
    nodeLoop.stop();
    server.stop();
  } catch (const kube::ConfigError& error) {
    spdlog::error("event=fatal error=\"{}\"", error.what());
    return 2;
  } catch (const std::exception& error) {
    spdlog::error("event=fatal error=\"{}\"", error.what());
    return 1;
  }
  return 0;
}

}  // namespace llmops::devcluster
