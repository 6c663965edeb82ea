// llmops-router's command line: exactly
//   --listen HOST:PORT (--kubeconfig PATH | --in-cluster | --static-config FILE)
//   [--metrics-addr HOST:PORT] [--upstream-first-byte-timeout SECONDS]
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace llmops::router {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

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

// "HOST:PORT" or "[IPv6]:PORT"; port 0 allowed (any free port). Throws UsageError.
HostPort parse_host_port(const std::string& text, const std::string& flag);
RouterFlags parse_router_flags(const std::vector<std::string>& args);
std::string router_usage();

}  // namespace llmops::router
