#include "router/router_cli.h"

#include <exception>
#include <functional>

#include "llmops/common/flags.h"

namespace llmops::router {

namespace {

// A flag whose value is a path that must not be empty.
std::function<void(const std::string&)> path_into(const std::string& flag, std::string* target) {
  return [flag, target](const std::string& value) {
    if (value.empty()) throw UsageError(flag + " needs a path");
    *target = value;
  };
}

// The flags, bound to `flags`; the help text is written from these declarations.
FlagSet router_flag_set(RouterFlags& flags) {
  FlagSet set(
      "usage: llmops-router --listen HOST:PORT\n"
      "                     (--kubeconfig PATH | --in-cluster | --static-config FILE)\n"
      "                     [--metrics-addr HOST:PORT] [--upstream-first-byte-timeout S]",
      "Routes OpenAI API requests (/v1/completions, /v1/chat/completions, /v1/models) to\n"
      "the revisions of each model by their traffic weights.");
  set.custom(
         "--listen",
         [&flags](const std::string& v) { flags.listen = parse_host_port(v, "--listen"); },
         "where clients connect (port 0: any free port, printed)", "HOST:PORT")
      .custom("--kubeconfig", path_into("--kubeconfig", &flags.kubeconfig),
              "watch LLMDeployments and their Pods with this kubeconfig", "PATH")
      .boolean("--in-cluster", &flags.in_cluster, "... with the pod's service account")
      .custom("--static-config", path_into("--static-config", &flags.static_config),
              "routes from a YAML file, reloaded when it changes", "FILE")
      .custom(
          "--metrics-addr",
          [&flags](const std::string& v) {
            flags.metrics_addr = parse_host_port(v, "--metrics-addr");
            flags.has_metrics_addr = true;
          },
          "serve /metrics, /healthz, /readyz here", "HOST:PORT", "on --listen")
      .custom(
          "--upstream-first-byte-timeout",
          [&flags](const std::string& text) {
            std::size_t used = 0;
            double seconds = 0;
            try {
              seconds = std::stod(text, &used);
            } catch (const std::exception&) {
              used = 0;
            }
            if (used != text.size() || !(seconds > 0) || seconds > 86400) {
              throw UsageError("--upstream-first-byte-timeout: \"" + text +
                               "\" is not a number of seconds in (0, 86400]");
            }
            flags.first_byte_timeout_seconds = seconds;
          },
          "seconds a pod may take to start its response: then the\n"
          "attempt fails, counts toward ejection and is retried elsewhere",
          "S", "30");
  return set;
}

}  // namespace

RouterFlags parse_router_flags(const std::vector<std::string>& args) {
  RouterFlags flags;
  FlagSet set = router_flag_set(flags);
  const std::vector<std::string> rest = set.parse(args);
  if (!rest.empty()) throw UsageError("unexpected argument " + rest.front());
  flags.help = set.help_requested();
  if (flags.help) return flags;
  if (!set.seen("--listen")) throw UsageError("--listen HOST:PORT is required");
  const int sources = !flags.kubeconfig.empty() + flags.in_cluster + !flags.static_config.empty();
  if (sources != 1) {
    throw UsageError("give exactly one of --kubeconfig PATH, --in-cluster, --static-config FILE");
  }
  return flags;
}

std::string router_usage() {
  RouterFlags defaults;
  return router_flag_set(defaults).help();
}

}  // namespace llmops::router
