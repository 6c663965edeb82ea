// The kubelet's exec probe: runs the probe's command as a process of the container (its
// environment and working directory, argv as given: no shell unless the command is one)
// and succeeds when it exits with 0. Past the timeout the process group is killed and the
// probe fails, as it does when `cancelFd` (when >= 0) becomes readable.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "http_probe.h"

namespace llmops::devcluster {

struct ExecProbeSpec {
  std::string executable;  // argv[0] resolved against the container's PATH
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;
  std::string workingDir;
  std::string outputPath;  // the command's stdout and stderr; removed afterwards
};

ProbeResult execProbe(const ExecProbeSpec& spec, std::chrono::milliseconds timeout,
                      int cancelFd = -1);

}  // namespace llmops::devcluster
