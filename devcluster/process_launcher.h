// Starting and signalling container processes: fork + exec with the output appended to a
// log file, a process group of its own (signals reach its children), default signal
// dispositions, death with the thread that started it (PR_SET_PDEATHSIG) and an
// optional CPU affinity.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace llmops::devcluster {

struct LaunchSpec {
  std::string executable;
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;
  std::string workingDir;
  std::string logPath;    // stdout and stderr, appended
  std::vector<int> cpus;  // empty: inherit
};

// Returns the pid; throws std::runtime_error when the log cannot be opened or fork
// fails. An exec failure is written to the log and ends the child with 127.
pid_t launchProcess(const LaunchSpec& spec);
// Signals the process group of `pid` (and the process itself, should it have left it).
void signalProcessGroup(pid_t pid, int signal);

}  // namespace llmops::devcluster
