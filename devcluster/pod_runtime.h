// What the kubelet knows about the pods it runs: per container the process, its runs,
// back-off and probe state. Plain data; the kubelet owns it, pod_status reads it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace llmops::devcluster {

using Clock = std::chrono::system_clock;

struct Termination {
  int exitCode = 0;
  int signal = 0;       // when killed by a signal (exitCode is then 128 + signal)
  std::string reason;   // Completed, Error
  std::string message;  // FallbackToLogsOnError: the log's tail after a failure
  Clock::time_point startedAt, finishedAt;
};

struct ContainerRun {
  std::string name;
  std::string image;
  pid_t pid = 0;  // running when > 0
  int restartCount = 0;
  bool everStarted = false;
  bool done = false;  // exited and the restartPolicy keeps it down
  Clock::time_point startedAt;
  std::optional<Termination> lastTermination;
  std::string waitingReason = "ContainerCreating";
  std::string waitingMessage;
  Clock::time_point nextStart;  // back-off: no start before
  std::chrono::milliseconds backoff{0};
  bool ready = false;
  int readinessSuccesses = 0, readinessFailures = 0, livenessFailures = 0;
  Clock::time_point nextReadinessProbe, nextLivenessProbe;
  bool readinessProbing = false, livenessProbing = false;  // a probe of this run is running
  bool started = false;  // no startupProbe, or it has succeeded for this run
  int startupFailures = 0;
  bool startupProbing = false;
  Clock::time_point nextStartupProbe;
  // What an exec probe runs in: the run's environment and working directory.
  std::vector<std::pair<std::string, std::string>> env;
  std::string workingDir;
  std::optional<Clock::time_point> killDeadline;  // SIGKILL then (liveness restart)
  int instance = 0;                               // the run's log file: <container>-<instance>.log
};

struct PodRun {
  std::string uid, ns, name, nodeName;
  uint32_t ip = 0;
  std::string dir;  // logs and working directory
  Clock::time_point startTime;
  std::vector<ContainerRun> containers;
  bool terminating = false;
  std::optional<Clock::time_point> killDeadline;  // SIGKILL then (graceful deletion)
  std::vector<int> exclusiveCpus;
  // The service-account volume's files (empty when the pod has none) and when its token
  // must be requested again.
  std::string serviceAccountDir;
  std::optional<Clock::time_point> tokenRefreshAt;
};

}  // namespace llmops::devcluster
