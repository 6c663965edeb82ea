// The kubelet's network probes. httpGet: GET http://HOST:PORT/PATH with a timeout; any
// status in 200..399 succeeds, anything else (refused, timeout, 4xx/5xx) fails.
// tcpSocket: a TCP connection to HOST:PORT within the timeout succeeds.
// Both give up early, as a failure, once `cancelFd` (when >= 0) becomes readable: the
// kubelet's shutdown must not wait for a probe's timeout.
#pragma once

#include <chrono>
#include <string>

namespace llmops::devcluster {

struct ProbeResult {
  bool success = false;
  std::string message;  // why it failed
};

ProbeResult httpGetProbe(const std::string& host, int port, const std::string& path,
                         std::chrono::milliseconds timeout, int cancelFd = -1);
ProbeResult tcpSocketProbe(const std::string& host, int port, std::chrono::milliseconds timeout,
                           int cancelFd = -1);

}  // namespace llmops::devcluster
