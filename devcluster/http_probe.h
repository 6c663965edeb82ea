// The kubelet's httpGet probe: GET http://HOST:PORT/PATH with a timeout; any status in
// 200..399 succeeds, anything else (refused, timeout, 4xx/5xx) fails.
#pragma once

#include <chrono>
#include <string>

namespace llmops::devcluster {

struct ProbeResult {
  bool success = false;
  std::string message;  // why it failed
};

ProbeResult httpGetProbe(const std::string& host, int port, const std::string& path,
                         std::chrono::milliseconds timeout);

}  // namespace llmops::devcluster
