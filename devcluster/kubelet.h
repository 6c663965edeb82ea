// The process kubelet: runs the containers of Pods bound to the devcluster's nodes as
// local processes, each pod on its own loopback IP. It restarts containers under the
// restartPolicy with the kubelet's back-off, runs httpGet, tcpSocket and exec startup, readiness
// and liveness probes (each on a thread of its own, never under the kubelet's lock),
// reports status through pods/status, ends deletions gracefully (SIGTERM, grace period,
// SIGKILL, then DELETE with gracePeriodSeconds 0 and a uid precondition), keeps each
// run's output for pods/log, and gives Guaranteed pods with whole CPUs exclusive CPUs.
// The service-account volume a real API server adds to pods is written to a directory of
// the pod (token from the TokenRequest API, refreshed before expiry), named to the
// processes by LLMOPS_SERVICE_ACCOUNT_DIR. The same kubelet runs inside the devcluster
// (LocalClient) and as a node agent of any API server (RemoteClient).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api_client.h"
#include "container_spec.h"
#include "http_probe.h"
#include "pod_network.h"
#include "pod_runtime.h"
#include "probe_runner.h"

namespace llmops::devcluster {

struct KubeletOptions {
  std::vector<std::string> nodeNames;
  PodCidr podCidr;
  std::string dataDir;  // pod logs under dataDir/pods
  ImageResolver images{".", {}};
  std::chrono::milliseconds initialBackoff{10000};  // doubled per crash up to maxBackoff
  std::chrono::milliseconds maxBackoff{300000};
  std::string apiServerHost = "127.0.0.1";  // KUBERNETES_SERVICE_HOST for containers
  std::string apiServerPort;                // KUBERNETES_SERVICE_PORT for containers
  // Which pods to consider (the kubelet skips those bound to other nodes). A kubelet of a
  // real cluster may only list its own: ?fieldSelector=spec.nodeName=<node>.
  std::string podListPath = "/api/v1/pods";
};

struct LogLocation {
  std::string path;
  bool running = false;  // the container still writes to it
};

class Kubelet {
 public:
  Kubelet(ApiClient& client, KubeletOptions options);
  void step();
  // The kinds of probe a container may have (public for the probe helpers).
  enum class ProbeKind { kReadiness, kLiveness, kStartup };
  // Set before the first step.
  void setApiServerPort(std::string port) { options_.apiServerPort = std::move(port); }
  // Stops every process: SIGTERM, up to `grace`, then SIGKILL; later steps do nothing.
  // Call it while the loop thread still runs: the processes die with the thread that
  // started them (PR_SET_PDEATHSIG), which would skip the SIGTERM.
  void shutdown(std::chrono::milliseconds grace);
  // The log of a container's current (or previous) run; throws ApiError 400 naming
  // what is missing.
  LogLocation logOf(const nlohmann::json& pod, const std::string& container, bool previous);

 private:
  void syncPod(const nlohmann::json& pod, const std::set<uint32_t>& usedIps);
  PodRun newPodRun(const nlohmann::json& pod, const std::set<uint32_t>& usedIps);
  void startContainer(const nlohmann::json& pod, PodRun& run, size_t index);
  void reap(PodRun& run, const nlohmann::json& pod);
  // Starts the container's due probes on probes_; they run without mutex_ and deliver
  // their result through applyProbeResult.
  void probe(const nlohmann::json& pod, PodRun& run, size_t index);
  struct ProbeTicket {  // which run a probe is about, and how to count its result
    std::string uid;
    size_t index = 0;
    std::string container;
    pid_t pid = 0;
    int instance = 0;
    ProbeKind kind = ProbeKind::kReadiness;
    int successThreshold = 1, failureThreshold = 3;
    std::chrono::seconds grace{30};
  };
  void startProbe(const nlohmann::json& pod, PodRun& run, size_t index, ProbeKind kind);
  void applyProbeResult(const ProbeTicket& ticket, const ProbeResult& result);
  void finishDeletion(const nlohmann::json& pod);
  void reportStatus(const nlohmann::json& pod, const PodRun& run);
  std::vector<int> allocateCpus(const nlohmann::json& pod);
  std::vector<int> sharedCpus() const;
  void killNow(PodRun& run);
  // Writes or refreshes the pod's service-account files when due; false (with the reason
  // in the containers' waiting message) while they are not there yet.
  bool projectServiceAccount(const nlohmann::json& pod, PodRun& run);

  ApiClient& client_;
  KubeletOptions options_;
  std::mutex mutex_;                    // pods_: the step and pods/log readers
  std::map<std::string, PodRun> pods_;  // by uid
  std::vector<int> allCpus_;
  bool stopped_ = false;
  ProbeRunner probes_;  // last: destroyed (its threads joined) before the state they use
};

}  // namespace llmops::devcluster
