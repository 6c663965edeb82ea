#include "kubelet.h"

#include <sched.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "exec_probe.h"
#include "http_probe.h"
#include "llmops/common/kube_validation.h"
#include "pod_status.h"
#include "process_launcher.h"
#include "quantity.h"
#include "service_account_volume.h"
#include "status.h"
#include "time_format.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

const Json& containersOf(const Json& pod) {
  static const Json kEmpty = Json::array();
  const Json& spec = pod["spec"];
  return spec.contains("containers") && spec["containers"].is_array() ? spec["containers"] : kEmpty;
}

std::chrono::seconds gracePeriodOf(const Json& pod) {
  const auto& metadata = pod["metadata"];
  if (metadata.contains("deletionGracePeriodSeconds") &&
      metadata["deletionGracePeriodSeconds"].is_number_integer()) {
    return std::chrono::seconds(metadata["deletionGracePeriodSeconds"].get<int64_t>());
  }
  return std::chrono::seconds(pod["spec"].value("terminationGracePeriodSeconds", 30));
}

int probePort(const Json& container, const Json& port) {
  if (port.is_number_integer()) return port.get<int>();
  if (port.is_string()) {
    const std::string name = port.get<std::string>();
    if (container.contains("ports") && container["ports"].is_array()) {
      for (const auto& entry : container["ports"]) {
        if (entry.value("name", "") == name) return entry.value("containerPort", 0);
      }
    }
    try {
      return std::stoi(name);
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

std::vector<std::pair<std::string, std::string>> baseEnvironment(const std::string& podName,
                                                                 const std::string& apiHost,
                                                                 const std::string& apiPort) {
  const char* path = std::getenv("PATH");
  std::vector<std::pair<std::string, std::string>> env = {
      {"PATH", path ? path : "/usr/local/bin:/usr/bin:/bin"}, {"HOSTNAME", podName}};
  if (const char* home = std::getenv("HOME")) env.emplace_back("HOME", home);
  if (!apiPort.empty()) {
    env.emplace_back("KUBERNETES_SERVICE_HOST", apiHost);
    env.emplace_back("KUBERNETES_SERVICE_PORT", apiPort);
  }
  return env;
}

// Whether `stored` already says everything `sent` says: nulls in `sent` match anything
// absent, and fields only `stored` has (defaults and fields a real API server adds, such
// as conditions' observedGeneration) are ignored. A plain comparison would patch the
// status on every step, and each patch wakes the kubelet again.
bool alreadyStored(const Json& stored, const Json& sent) {
  if (sent.is_null()) return true;
  if (sent.is_object()) {
    if (!stored.is_object()) return false;
    for (const auto& [key, value] : sent.items()) {
      if (value.is_null()) continue;
      if (!stored.contains(key) || !alreadyStored(stored[key], value)) return false;
    }
    return true;
  }
  if (sent.is_array()) {
    if (!stored.is_array() || stored.size() != sent.size()) return false;
    for (size_t i = 0; i < sent.size(); ++i) {
      if (!alreadyStored(stored[i], sent[i])) return false;
    }
    return true;
  }
  return stored == sent;
}

}  // namespace

Kubelet::Kubelet(ApiClient& client, KubeletOptions options)
    : client_(client), options_(std::move(options)) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) allCpus_.push_back(cpu);
    }
  }
}

std::vector<int> Kubelet::sharedCpus() const {
  std::set<int> exclusive;
  for (const auto& [uid, run] : pods_)
    exclusive.insert(run.exclusiveCpus.begin(), run.exclusiveCpus.end());
  std::vector<int> shared;
  for (int cpu : allCpus_) {
    if (!exclusive.count(cpu)) shared.push_back(cpu);
  }
  return shared;
}

// The static CPU manager's rule: Guaranteed pods asking for whole CPUs get CPUs nobody
// else runs on, while at least one CPU stays shared.
std::vector<int> Kubelet::allocateCpus(const Json& pod) {
  if (!isGuaranteed(pod)) return {};
  int64_t millis = podRequests(pod).cpuMillis;
  if (millis <= 0 || millis % 1000 != 0) return {};
  auto shared = sharedCpus();
  size_t wanted = static_cast<size_t>(millis / 1000);
  if (shared.size() <= wanted) return {};
  // Take from the top so the shared pool keeps CPU 0 (where interrupts usually land).
  return std::vector<int>(shared.end() - static_cast<std::ptrdiff_t>(wanted), shared.end());
}

namespace {

// The pieces of a pod's directory and log paths come from the API: the server validates
// them, and the kubelet checks again, so that no stored object (written before validation
// existed, or by a bug) can name a path outside DATA/pods.
void requireSafePathParts(const std::string& ns, const std::string& name, const std::string& uid,
                          const Json& containers) {
  namespace kv = llmops::kube_validation;
  auto fail = [&](const std::string& what, const std::string& value) {
    throw std::invalid_argument(
        "refusing to run pod " +
        Json(ns + "/" + name).dump(-1, ' ', false, Json::error_handler_t::replace) + ": its " +
        what + " " + Json(value).dump(-1, ' ', false, Json::error_handler_t::replace) +
        " cannot name a file");
  };
  if (!kv::dns1123LabelError(ns).empty()) fail("namespace", ns);
  if (!kv::dns1123SubdomainError(name).empty()) fail("name", name);
  if (uid.empty() || uid.find_first_not_of("0123456789abcdefABCDEF-") != std::string::npos) {
    fail("uid", uid);
  }
  for (const auto& container : containers) {
    const std::string containerName = container.value("name", "");
    if (!kv::dns1123LabelError(containerName).empty()) fail("container name", containerName);
  }
}

// The real kubelet's FallbackToLogsOnError: the last 80 lines or 2048 bytes of the log,
// whichever is smaller.
std::string logTail(const std::string& path) {
  constexpr std::streamoff kMaxBytes = 2048;
  constexpr int kMaxLines = 80;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const std::streamoff size = in.tellg();
  in.seekg(std::max<std::streamoff>(0, size - kMaxBytes));
  std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  int lines = 0;
  for (std::size_t i = tail.size(); i-- > 0;) {
    if (tail[i] == '\n' && i + 1 < tail.size() && ++lines >= kMaxLines) {
      tail = tail.substr(i + 1);
      break;
    }
  }
  return tail;
}

}  // namespace

PodRun Kubelet::newPodRun(const Json& pod, const std::set<uint32_t>& usedIps) {
  const auto& metadata = pod["metadata"];
  PodRun run;
  run.uid = metadata.value("uid", "");
  run.ns = metadata.value("namespace", "");
  run.name = metadata.value("name", "");
  requireSafePathParts(run.ns, run.name, run.uid, containersOf(pod));
  run.nodeName = pod["spec"].value("nodeName", "");
  run.startTime = Clock::now();
  const Json status = pod.value("status", Json::object());
  std::optional<uint32_t> previousIp;
  try {
    if (status.contains("podIP") && status["podIP"].is_string()) {
      uint32_t ip = parseIPv4(status["podIP"].get<std::string>());
      if (options_.podCidr.contains(ip)) previousIp = ip;
    }
  } catch (const std::invalid_argument&) {
  }
  std::set<uint32_t> taken = usedIps;
  for (const auto& [uid, other] : pods_) taken.insert(other.ip);
  if (previousIp && !std::any_of(pods_.begin(), pods_.end(), [&](const auto& entry) {
        return entry.second.ip == *previousIp;
      })) {
    run.ip = *previousIp;
  } else {
    run.ip = allocatePodIp(options_.podCidr, taken);
  }
  run.dir = options_.dataDir + "/pods/" + run.ns + "_" + run.name + "_" + run.uid;
  std::filesystem::create_directories(run.dir);
  run.exclusiveCpus = allocateCpus(pod);
  std::map<std::string, int> restarts;  // kept across devcluster restarts
  if (status.contains("containerStatuses") && status["containerStatuses"].is_array()) {
    for (const auto& entry : status["containerStatuses"]) {
      restarts[entry.value("name", "")] = entry.value("restartCount", 0);
    }
  }
  for (const auto& spec : containersOf(pod)) {
    ContainerRun container;
    container.name = spec.value("name", "");
    container.image = spec.value("image", "");
    container.restartCount = restarts[container.name];
    container.instance = container.restartCount;
    run.containers.push_back(container);
  }
  spdlog::info("event=pod_admitted pod={}/{} ip={} cpus={}", run.ns, run.name, formatIPv4(run.ip),
               run.exclusiveCpus.size());
  return run;
}

void Kubelet::startContainer(const Json& pod, PodRun& run, size_t index) {
  ContainerRun& container = run.containers[index];
  const Json& spec = containersOf(pod)[index];
  const auto now = Clock::now();
  std::string why;
  auto binary = options_.images.resolve(container.image, why);
  if (!binary) {
    container.waitingReason = "ErrImagePull";
    container.waitingMessage = why;
    container.nextStart = now + std::chrono::seconds(5);
    return;
  }
  PodFacts facts{run.name, run.ns, run.uid, run.nodeName, formatIPv4(run.ip), "127.0.0.1"};
  LaunchSpec launch;
  try {
    auto base = baseEnvironment(run.name, options_.apiServerHost, options_.apiServerPort);
    if (!run.serviceAccountDir.empty())
      base.emplace_back(kServiceAccountDirEnv, run.serviceAccountDir);
    launch.env = containerEnvironment(spec, facts, base);
  } catch (const std::invalid_argument& error) {
    container.waitingReason = "CreateContainerConfigError";
    container.waitingMessage = error.what();
    container.nextStart = now + std::chrono::seconds(5);
    return;
  }
  CommandLine command = containerCommand(spec, *binary, launch.env);
  launch.executable = command.executable;
  launch.argv = command.argv;
  launch.workingDir = spec.value("workingDir", run.dir);
  container.env = launch.env;
  container.workingDir = launch.workingDir;
  if (container.everStarted) ++container.restartCount;
  container.instance = container.restartCount;
  launch.logPath =
      run.dir + "/" + container.name + "-" + std::to_string(container.instance) + ".log";
  launch.cpus = run.exclusiveCpus.empty() ? sharedCpus() : run.exclusiveCpus;
  if (launch.cpus.size() == allCpus_.size()) launch.cpus.clear();
  try {
    container.pid = launchProcess(launch);
  } catch (const std::runtime_error& error) {
    container.waitingReason = "RunContainerError";
    container.waitingMessage = error.what();
    container.nextStart = now + std::chrono::seconds(5);
    return;
  }
  container.everStarted = true;
  container.startedAt = now;
  container.ready = false;
  container.readinessSuccesses = container.readinessFailures = container.livenessFailures = 0;
  container.readinessProbing = container.livenessProbing = container.startupProbing = false;
  container.started = !spec.contains("startupProbe");
  container.startupFailures = 0;
  container.killDeadline.reset();
  auto delay = [&](const char* probe) {
    int seconds = spec.contains(probe) ? spec[probe].value("initialDelaySeconds", 0) : 0;
    return now + std::chrono::seconds(seconds);
  };
  container.nextReadinessProbe = delay("readinessProbe");
  container.nextLivenessProbe = delay("livenessProbe");
  container.nextStartupProbe = delay("startupProbe");
  spdlog::info(
      "event=container_started pod={}/{} container={} pid={} ip={} executable={} "
      "restart_count={}",
      run.ns, run.name, container.name, container.pid, formatIPv4(run.ip), launch.executable,
      container.restartCount);
}

void Kubelet::reap(PodRun& run, const Json& pod) {
  const std::string policy = pod["spec"].value("restartPolicy", "Always");
  for (auto& container : run.containers) {
    if (container.pid <= 0) continue;
    int status = 0;
    pid_t done = waitpid(container.pid, &status, WNOHANG);
    if (done == 0) continue;
    const auto now = Clock::now();
    Termination termination;
    termination.startedAt = container.startedAt;
    termination.finishedAt = now;
    if (done < 0) {
      termination.exitCode = 128;  // reaped elsewhere; nothing more to learn
    } else if (WIFSIGNALED(status)) {
      termination.signal = WTERMSIG(status);
      termination.exitCode = 128 + termination.signal;
    } else {
      termination.exitCode = WEXITSTATUS(status);
    }
    termination.reason = termination.exitCode == 0 ? "Completed" : "Error";
    if (termination.exitCode != 0) {
      for (const auto& spec : containersOf(pod)) {
        if (spec.value("name", "") == container.name &&
            spec.value("terminationMessagePolicy", "File") == "FallbackToLogsOnError") {
          termination.message = logTail(run.dir + "/" + container.name + "-" +
                                        std::to_string(container.instance) + ".log");
        }
      }
    }
    spdlog::info("event=container_exited pod={}/{} container={} pid={} exit_code={}", run.ns,
                 run.name, container.name, container.pid, termination.exitCode);
    container.pid = 0;
    container.ready = false;
    container.killDeadline.reset();
    container.lastTermination = termination;
    const bool restart = !run.terminating && (policy == "Always" ||
                                              (policy == "OnFailure" && termination.exitCode != 0));
    if (!restart) {
      container.done = true;
      continue;
    }
    // The kubelet's back-off: the first restart is immediate, later ones wait 10 s,
    // 20 s... up to 5 min; a run longer than twice the maximum resets it.
    if (now - termination.startedAt > 2 * options_.maxBackoff) {
      container.backoff = std::chrono::milliseconds(0);
    }
    container.nextStart = now + container.backoff;
    container.backoff = container.backoff.count() == 0
                            ? options_.initialBackoff
                            : std::min(container.backoff * 2, options_.maxBackoff);
  }
}

namespace {

// A probe's action, taken from the spec under the kubelet's lock and run without it.
using ProbeAction = std::function<ProbeResult(int cancelFd)>;

ProbeAction failingProbe(std::string message) {
  return [message = std::move(message)](int) { return ProbeResult{false, message}; };
}

const char* probeName(Kubelet::ProbeKind kind) {
  switch (kind) {
    case Kubelet::ProbeKind::kReadiness:
      return "readiness";
    case Kubelet::ProbeKind::kLiveness:
      return "liveness";
    case Kubelet::ProbeKind::kStartup:
      return "startup";
  }
  return "";
}

bool& probing(ContainerRun& container, Kubelet::ProbeKind kind) {
  switch (kind) {
    case Kubelet::ProbeKind::kReadiness:
      return container.readinessProbing;
    case Kubelet::ProbeKind::kLiveness:
      return container.livenessProbing;
    case Kubelet::ProbeKind::kStartup:
      break;
  }
  return container.startupProbing;
}

}  // namespace

void Kubelet::probe(const Json& pod, PodRun& run, size_t index) {
  ContainerRun& container = run.containers[index];
  const Json& spec = containersOf(pod)[index];
  const auto now = Clock::now();
  auto period = [](const Json& probe) {
    return std::chrono::seconds(
        std::max(1, probe.is_object() ? probe.value("periodSeconds", 10) : 10));
  };
  if (!container.started) {
    // Until the startup probe succeeds the container is not ready and the other probes
    // wait.
    container.ready = false;
    if (now >= container.nextStartupProbe && !container.startupProbing && !container.killDeadline) {
      container.nextStartupProbe = now + period(spec["startupProbe"]);
      startProbe(pod, run, index, ProbeKind::kStartup);
    }
    return;
  }
  if (!spec.contains("readinessProbe")) {
    container.ready = true;
  } else if (now >= container.nextReadinessProbe && !container.readinessProbing) {
    const Json& probe = spec["readinessProbe"];
    container.nextReadinessProbe = now + period(probe);
    startProbe(pod, run, index, ProbeKind::kReadiness);
  }
  if (spec.contains("livenessProbe") && now >= container.nextLivenessProbe &&
      !container.killDeadline && !container.livenessProbing) {
    const Json& probe = spec["livenessProbe"];
    container.nextLivenessProbe = now + period(probe);
    startProbe(pod, run, index, ProbeKind::kLiveness);
  }
}

void Kubelet::startProbe(const Json& pod, PodRun& run, size_t index, ProbeKind kind) {
  ContainerRun& container = run.containers[index];
  const Json& spec = containersOf(pod)[index];
  const std::string field = std::string(probeName(kind)) + "Probe";
  static const Json kNoSettings = Json::object();
  const Json& probe = spec[field].is_object() ? spec[field] : kNoSettings;
  const auto timeout = std::chrono::seconds(std::max(1, probe.value("timeoutSeconds", 1)));
  ProbeAction action;
  if (!spec[field].is_object()) {
    action = failingProbe(field + " is not an object");
  } else if (probe.contains("httpGet")) {
    const Json& get = probe["httpGet"];
    std::string host = get.value("host", formatIPv4(run.ip));
    int port = probePort(spec, get.value("port", Json(0)));
    std::string path = get.value("path", "/");
    action = [host, port, path, timeout](int cancelFd) {
      return httpGetProbe(host, port, path, timeout, cancelFd);
    };
  } else if (probe.contains("tcpSocket")) {
    const Json& socket = probe["tcpSocket"];
    std::string host = socket.value("host", formatIPv4(run.ip));
    int port = probePort(spec, socket.value("port", Json(0)));
    action = [host, port, timeout](int cancelFd) {
      return tcpSocketProbe(host, port, timeout, cancelFd);
    };
  } else if (probe.contains("exec")) {
    const Json& exec = probe["exec"];
    if (!exec.is_object() || !exec.contains("command") || !exec["command"].is_array() ||
        exec["command"].empty()) {
      action = failingProbe("exec probe without a command");
    } else {
      // As in the container: $(VAR) over its environment, the image's name runs the
      // image's binary, a bare name is searched in its PATH.
      std::string why;
      auto binary = options_.images.resolve(container.image, why);
      CommandLine command =
          containerCommand({{"image", container.image}, {"command", exec["command"]}},
                           binary.value_or(""), container.env);
      ExecProbeSpec execSpec;
      execSpec.executable = command.executable;
      execSpec.argv = command.argv;
      execSpec.env = container.env;
      execSpec.workingDir = container.workingDir;
      execSpec.outputPath = run.dir + "/" + container.name + "-" + probeName(kind) + "-probe.out";
      action = [execSpec = std::move(execSpec), timeout](int cancelFd) {
        return execProbe(execSpec, timeout, cancelFd);
      };
    }
  } else {
    action = failingProbe("the process kubelet runs httpGet, tcpSocket and exec probes only");
  }
  ProbeTicket ticket{run.uid, index, container.name, container.pid, container.instance, kind};
  ticket.successThreshold = probe.value("successThreshold", 1);
  ticket.failureThreshold = probe.value("failureThreshold", 3);
  ticket.grace = std::chrono::seconds(pod["spec"].value("terminationGracePeriodSeconds", 30));
  probing(container, kind) = true;
  probes_.run([this, ticket, action = std::move(action)](int cancelFd) {
    ProbeResult result = action(cancelFd);
    applyProbeResult(ticket, result);
  });
}

void Kubelet::applyProbeResult(const ProbeTicket& ticket, const ProbeResult& result) {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  auto found = pods_.find(ticket.uid);
  if (found == pods_.end()) return;  // the pod is gone
  PodRun& run = found->second;
  if (ticket.index >= run.containers.size()) return;
  ContainerRun& container = run.containers[ticket.index];
  // A result about an earlier run of the container says nothing about this one.
  if (container.name != ticket.container || container.pid != ticket.pid ||
      container.instance != ticket.instance) {
    return;
  }
  if (ticket.kind == ProbeKind::kReadiness) {
    container.readinessProbing = false;
    if (result.success) {
      container.readinessFailures = 0;
      if (++container.readinessSuccesses >= ticket.successThreshold) container.ready = true;
    } else {
      container.readinessSuccesses = 0;
      if (++container.readinessFailures >= ticket.failureThreshold || !container.ready) {
        container.ready = false;
      }
    }
    return;
  }
  if (ticket.kind == ProbeKind::kStartup) {
    container.startupProbing = false;
    if (result.success) {
      container.started = true;
      container.startupFailures = 0;
      return;
    }
    if (++container.startupFailures < ticket.failureThreshold || container.killDeadline) return;
  } else {
    container.livenessProbing = false;
    if (result.success) {
      container.livenessFailures = 0;
      return;
    }
    if (++container.livenessFailures < ticket.failureThreshold || container.killDeadline) return;
  }
  // failureThreshold failures of the startup or liveness probe: restart the container.
  spdlog::info("event={}_failed pod={}/{} container={} message=\"{}\"", probeName(ticket.kind),
               run.ns, run.name, container.name, result.message);
  signalProcessGroup(container.pid, SIGTERM);
  container.killDeadline = Clock::now() + ticket.grace;
  container.ready = false;
}

void Kubelet::killNow(PodRun& run) {
  for (auto& container : run.containers) {
    if (container.pid <= 0) continue;
    signalProcessGroup(container.pid, SIGKILL);
    waitpid(container.pid, nullptr, 0);
    container.pid = 0;
  }
}

void Kubelet::finishDeletion(const Json& pod) {
  const auto& metadata = pod["metadata"];
  Json options = {{"apiVersion", "v1"},
                  {"kind", "DeleteOptions"},
                  {"gracePeriodSeconds", 0},
                  {"preconditions", {{"uid", metadata.value("uid", "")}}}};
  try {
    client_.remove(podPath(metadata.value("namespace", ""), metadata.value("name", "")), options);
    spdlog::info("event=pod_deleted pod={}/{}", metadata.value("namespace", ""),
                 metadata.value("name", ""));
  } catch (const ApiError& error) {
    spdlog::info("event=pod_delete_skipped pod={}/{} error=\"{}\"", metadata.value("namespace", ""),
                 metadata.value("name", ""), error.what());
  }
}

void Kubelet::reportStatus(const Json& pod, const PodRun& run) {
  Json status = podStatus(pod, run, Clock::now());
  if (alreadyStored(pod.value("status", Json::object()), status)) return;
  try {
    client_.mergePatch(podPath(run.ns, run.name) + "/status", {{"status", status}});
  } catch (const ApiError& error) {
    if (error.code() != 404) throw;
  }
}

bool Kubelet::projectServiceAccount(const Json& pod, PodRun& run) {
  const Json* volume = serviceAccountVolume(pod);
  if (!volume) return true;
  const auto now = Clock::now();
  const bool projected = !run.serviceAccountDir.empty();
  if (run.tokenRefreshAt && now < *run.tokenRefreshAt) return projected;
  const std::string dir = run.dir + "/serviceaccount";
  try {
    run.tokenRefreshAt = projectServiceAccountVolume(client_, pod, *volume, dir, now);
    if (!projected) {
      spdlog::info("event=service_account_projected pod={}/{} dir={}", run.ns, run.name, dir);
    }
    run.serviceAccountDir = dir;
    return true;
  } catch (const std::exception& error) {
    // Running containers keep the token they have (valid until it expires); new ones wait.
    spdlog::warn("event=service_account_projection_failed pod={}/{} error=\"{}\"", run.ns, run.name,
                 error.what());
    run.tokenRefreshAt = now + std::chrono::seconds(5);
    if (projected) return true;
    for (auto& container : run.containers) {
      if (container.pid > 0 || container.done) continue;
      container.waitingReason = "ContainerCreating";
      container.waitingMessage = std::string("MountVolume.SetUp failed for volume \"") +
                                 volume->value("name", "") + "\": " + error.what();
    }
    return false;
  }
}

void Kubelet::syncPod(const Json& pod, const std::set<uint32_t>& usedIps) {
  const auto& metadata = pod["metadata"];
  const std::string uid = metadata.value("uid", "");
  auto found = pods_.find(uid);
  const auto now = Clock::now();
  if (metadata.contains("deletionTimestamp")) {
    if (found == pods_.end()) {
      finishDeletion(pod);
      return;
    }
    PodRun& run = found->second;
    reap(run, pod);
    if (!run.terminating) {
      run.terminating = true;
      run.killDeadline = now + gracePeriodOf(pod);
      for (auto& container : run.containers) {
        container.done = true;
        if (container.pid > 0) signalProcessGroup(container.pid, SIGTERM);
      }
      spdlog::info("event=pod_terminating pod={}/{} grace_seconds={}", run.ns, run.name,
                   gracePeriodOf(pod).count());
    } else if (run.killDeadline && now >= *run.killDeadline) {
      for (auto& container : run.containers) {
        if (container.pid > 0) signalProcessGroup(container.pid, SIGKILL);
      }
      run.killDeadline.reset();
    }
    bool running = std::any_of(run.containers.begin(), run.containers.end(),
                               [](const ContainerRun& c) { return c.pid > 0; });
    if (running) return;
    pods_.erase(found);
    finishDeletion(pod);
    return;
  }
  if (found == pods_.end()) {
    const std::string phase = pod.contains("status") ? pod["status"].value("phase", "") : "";
    if (phase == "Succeeded" || phase == "Failed") return;  // finished before a restart
    found = pods_.emplace(uid, newPodRun(pod, usedIps)).first;
  }
  PodRun& run = found->second;
  reap(run, pod);
  const bool volumesReady = projectServiceAccount(pod, run);
  for (size_t i = 0; i < run.containers.size(); ++i) {
    ContainerRun& container = run.containers[i];
    if (container.pid > 0) {
      if (container.killDeadline && now >= *container.killDeadline) {
        signalProcessGroup(container.pid, SIGKILL);
        container.killDeadline.reset();
      }
      probe(pod, run, i);
    } else if (!container.done && now >= container.nextStart && volumesReady) {
      startContainer(pod, run, i);
    }
  }
  reportStatus(pod, run);
}

void Kubelet::step() {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  Json pods = client_.list(options_.podListPath);
  std::set<std::string> seen;
  std::set<uint32_t> usedIps;
  for (const auto& pod : pods) {
    if (!pod.contains("status") || !pod["status"].contains("podIP")) continue;
    try {
      usedIps.insert(parseIPv4(pod["status"].value("podIP", "")));
    } catch (const std::invalid_argument&) {
    }
  }
  for (const auto& pod : pods) {
    const std::string node = pod["spec"].value("nodeName", "");
    if (std::find(options_.nodeNames.begin(), options_.nodeNames.end(), node) ==
        options_.nodeNames.end()) {
      continue;
    }
    seen.insert(pod["metadata"].value("uid", ""));
    try {
      syncPod(pod, usedIps);
    } catch (const std::exception& error) {
      spdlog::warn("event=pod_sync_failed pod={}/{} error=\"{}\"",
                   pod["metadata"].value("namespace", ""), pod["metadata"].value("name", ""),
                   error.what());
    }
  }
  // Pods removed without the kubelet (force deletion, namespace removal): stop them.
  for (auto it = pods_.begin(); it != pods_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    spdlog::info("event=pod_removed pod={}/{}", it->second.ns, it->second.name);
    killNow(it->second);
    it = pods_.erase(it);
  }
}

void Kubelet::shutdown(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  probes_.stop();  // without the lock: a finishing probe takes it to deliver its result
  std::lock_guard lock(mutex_);
  for (auto& [uid, run] : pods_) {
    for (auto& container : run.containers) {
      if (container.pid > 0) signalProcessGroup(container.pid, SIGTERM);
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (auto& [uid, run] : pods_) {
    for (auto& container : run.containers) {
      while (container.pid > 0) {
        pid_t done = waitpid(container.pid, nullptr, WNOHANG);
        if (done != 0) {
          container.pid = 0;
        } else if (std::chrono::steady_clock::now() >= deadline) {
          signalProcessGroup(container.pid, SIGKILL);
          waitpid(container.pid, nullptr, 0);
          container.pid = 0;
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    }
  }
  spdlog::info("event=kubelet_stopped pods={}", pods_.size());
  pods_.clear();
}

LogLocation Kubelet::logOf(const Json& pod, const std::string& containerName, bool previous) {
  std::lock_guard lock(mutex_);
  const std::string podName = pod["metadata"].value("name", "");
  auto found = pods_.find(pod["metadata"].value("uid", ""));
  std::string name = containerName;
  const Json& containers = containersOf(pod);
  if (name.empty()) {
    if (containers.size() != 1) {
      std::string choices;
      for (const auto& c : containers)
        choices += (choices.empty() ? "" : " ") + c.value("name", "");
      throw badRequest("a container name must be specified for pod " + podName +
                       ", choose one of: [" + choices + "]");
    }
    name = containers[0].value("name", "");
  }
  if (found == pods_.end()) {
    throw badRequest("container \"" + name + "\" in pod \"" + podName +
                     "\" is waiting to start: ContainerCreating");
  }
  for (const auto& container : found->second.containers) {
    if (container.name != name) continue;
    if (!container.everStarted) {
      throw badRequest("container \"" + name + "\" in pod \"" + podName +
                       "\" is waiting to start: " + container.waitingReason);
    }
    int instance = previous ? container.instance - 1 : container.instance;
    std::string path = found->second.dir + "/" + name + "-" + std::to_string(instance) + ".log";
    if (previous && (instance < 0 || !std::filesystem::exists(path))) {
      throw badRequest("previous terminated container \"" + name + "\" in pod \"" + podName +
                       "\" not found");
    }
    return {path, !previous && container.pid > 0};
  }
  throw badRequest("container " + name + " is not valid for pod " + podName);
}

}  // namespace llmops::devcluster
