#include "router/router_cli.h"

#include <algorithm>

namespace llmops::router {

RouterFlags parse_router_flags(const std::vector<std::string>& args) {
  RouterFlags flags;
  bool has_listen = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw UsageError(arg + " needs a value");
      return args[++i];
    };
    if (arg == "--help" || arg == "-h") {
      flags.help = true;
    } else if (arg == "--listen") {
      flags.listen = parse_host_port(value(), arg);
      has_listen = true;
    } else if (arg == "--kubeconfig") {
      flags.kubeconfig = value();
      if (flags.kubeconfig.empty()) throw UsageError("--kubeconfig needs a path");
    } else if (arg == "--in-cluster") {
      flags.in_cluster = true;
    } else if (arg == "--static-config") {
      flags.static_config = value();
      if (flags.static_config.empty()) throw UsageError("--static-config needs a path");
    } else if (arg == "--metrics-addr") {
      flags.metrics_addr = parse_host_port(value(), arg);
      flags.has_metrics_addr = true;
    } else if (arg == "--upstream-first-byte-timeout") {
      const std::string text = value();
      std::size_t used = 0;
      double seconds = 0;
      try {
        seconds = std::stod(text, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != text.size() || !(seconds > 0) || seconds > 86400) {
        throw UsageError(arg + ": \"" + text + "\" is not a number of seconds in (0, 86400]");
      }
      flags.first_byte_timeout_seconds = seconds;
    } else {
      throw UsageError("unknown flag " + arg);
    }
  }
  if (flags.help) return flags;
  if (!has_listen) throw UsageError("--listen HOST:PORT is required");
  const int sources = !flags.kubeconfig.empty() + flags.in_cluster + !flags.static_config.empty();
  if (sources != 1) {
    throw UsageError("give exactly one of --kubeconfig PATH, --in-cluster, --static-config FILE");
  }
  return flags;
}

std::string router_usage() {
  return "usage: llmops-router --listen HOST:PORT\n"
         "                     (--kubeconfig PATH | --in-cluster | --static-config FILE)\n"
         "                     [--metrics-addr HOST:PORT] [--upstream-first-byte-timeout S]\n"
         "\n"
         "Routes OpenAI API requests (/v1/completions, /v1/chat/completions, /v1/models) to\n"
         "the revisions of each model by their traffic weights.\n"
         "  --listen          where clients connect (port 0: any free port, printed)\n"
         "  --kubeconfig      watch LLMDeployments and their Pods with this kubeconfig\n"
         "  --in-cluster      ... with the pod's service account\n"
         "  --static-config   routes from a YAML file, reloaded when it changes\n"
         "  --metrics-addr    serve /metrics, /healthz, /readyz here (default: on --listen)\n"
         "  --upstream-first-byte-timeout\n"
         "                    seconds a pod may take to start its response (30): then the\n"
         "                    attempt fails, counts toward ejection and is retried elsewhere\n";
}

}  // namespace llmops::router
