// llmops-router's command line: exactly
//   --listen HOST:PORT (--kubeconfig PATH | --in-cluster | --static-config FILE)
//   [--metrics-addr HOST:PORT] [--upstream-first-byte-timeout SECONDS]
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llmops/common/host_port.h"
#include "llmops/common/usage_error.h"

namespace llmops::router {

struct RouterFlags {
  HostPort listen;
  std::string kubeconfig;
  bool in_cluster = false;
  std::string static_config;
  bool has_metrics_addr = false;
  HostPort metrics_addr;
  double first_byte_timeout_seconds = 30;  // > 0
  bool help = false;
};

RouterFlags parse_router_flags(const std::vector<std::string>& args);
std::string router_usage();

}  // namespace llmops::router
