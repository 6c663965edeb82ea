// Flags that llmops-devcluster and its `kubelet` command share, declared on common's
// FlagSet so that both parse and explain them the same way.
#pragma once

#include <exception>
#include <map>
#include <string>

#include "llmops/common/flags.h"
#include "llmops/common/host_port.h"

namespace llmops::devcluster {

// --image-map NAME=PATH (repeatable): run images named NAME with the program at PATH.
inline void addImageMapFlag(FlagSet& set, std::map<std::string, std::string>* imageMap) {
  set.custom(
      "--image-map",
      [imageMap](const std::string& mapping) {
        auto equals = mapping.find('=');
        if (equals == std::string::npos || equals == 0 || equals + 1 == mapping.size()) {
          throw UsageError("--image-map wants NAME=PATH");
        }
        (*imageMap)[mapping.substr(0, equals)] = mapping.substr(equals + 1);
      },
      "run images named NAME with PATH (repeatable)", "NAME=PATH");
}

// --listen HOST:PORT into `host` and `port`.
inline void addListenFlag(FlagSet& set, std::string* host, int* port, const std::string& help,
                          const std::string& defaultText = "") {
  set.custom(
      "--listen",
      [host, port](const std::string& v) {
        HostPort address = parse_host_port(v, "--listen");
        *host = address.host;
        *port = address.port;
      },
      help, "HOST:PORT", defaultText);
}

// --restart-backoff-seconds S: the first container restart back-off, >= 0.
inline void addRestartBackoffFlag(FlagSet& set, double* seconds) {
  set.custom(
      "--restart-backoff-seconds",
      [seconds](const std::string& v) {
        std::size_t used = 0;
        double value = -1;
        try {
          value = std::stod(v, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != v.size() || !(value >= 0)) {
          throw UsageError("--restart-backoff-seconds must be a number >= 0, got \"" + v + "\"");
        }
        *seconds = value;
      },
      "first container restart back-off", "S", "10");
}

}  // namespace llmops::devcluster
