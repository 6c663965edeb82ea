#include "llmops/kube/operator_cli.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <thread>

#include "llmops/common/host_port.h"

namespace llmops::kube {

void declare_operator_flags(FlagSet& set, OperatorFlags& flags) {
  set.text("--kubeconfig", &flags.kubeconfig,
           "kubeconfig file (default $KUBECONFIG, in-cluster, ~/.kube/config)", "PATH")
      .text("--context", &flags.context, "kubeconfig context (default current-context)", "NAME")
      .text("--namespace", &flags.namespace_name, "watch only NS (default all namespaces)", "NS")
      .boolean("--leader-elect", &flags.leader_elect,
               "run controllers only while holding the Lease")
      .text("--lease-name", &flags.lease_name, "Lease name", "NAME")
      .text("--lease-namespace", &flags.lease_namespace,
            "Lease namespace (the context's namespace)", "NS")
      .text("--metrics-addr", &flags.metrics_addr, "/metrics (0 disables)", "HOST:PORT")
      .text("--health-addr", &flags.health_addr, "/healthz, /readyz (0 disables)", "HOST:PORT")
      .integer("--workers", &flags.workers, "reconcile workers per controller", 1, 1024)
      .text("--log-level", &flags.log_level, "trace|debug|info|warn|error", "LEVEL")
      .boolean("--insecure-skip-tls-verify", &flags.insecure_skip_tls_verify,
               "do not verify the API server's certificate (unsafe)");
}

void check_operator_flags(const OperatorFlags& flags) {
  for (const auto& [flag, address] : {std::pair{"--metrics-addr", flags.metrics_addr},
                                      std::pair{"--health-addr", flags.health_addr}}) {
    if (address == "0") continue;
    parse_host_port(address, flag, EmptyHost::kAnyAddress);
  }
}

std::string operator_usage(const std::string& program, const std::string& extra_help) {
  OperatorFlags defaults;
  FlagSet set(operator_synopsis(program));
  declare_operator_flags(set, defaults);
  return set.help() + extra_help;
}

std::string operator_synopsis(const std::string& program) {
  return "usage: " + program +
         " [--kubeconfig PATH] [--context NAME] [--namespace NS] [--leader-elect]\n"
         "       [--metrics-addr HOST:PORT] [--health-addr HOST:PORT] [flags]";
}

OperatorFlags parse_operator_flags(int argc, char** argv,
                                   const std::map<std::string, std::string>& extra_flags) {
  OperatorFlags flags;
  flags.extra = extra_flags;
  FlagSet set(operator_synopsis(argc > 0 ? argv[0] : "operator"));
  declare_operator_flags(set, flags);
  for (const auto& [name, default_value] : extra_flags) {
    set.text("--" + name, &flags.extra[name], "", "VALUE");
  }
  const auto rest = set.parse(std::vector<std::string>(argv + std::min(argc, 1), argv + argc));
  if (!rest.empty()) throw UsageError("unexpected argument " + rest.front());
  check_operator_flags(flags);
  return flags;
}

ManagerOptions manager_options(const OperatorFlags& flags, const std::string& component) {
  ManagerOptions options;
  options.rest = load_default_config(flags.kubeconfig, flags.context);
  if (flags.insecure_skip_tls_verify) {
    options.rest.insecure_skip_tls_verify = true;
  }
  if (options.rest.insecure_skip_tls_verify) {
    spdlog::warn(
        "event=insecure_tls message=\"TLS verification of the API server is OFF: anyone on "
        "the network path can impersonate it and read the bearer token\" server={}",
        options.rest.server);
  }
  options.watch_namespace = flags.namespace_name;
  options.metrics_addr = flags.metrics_addr;
  options.health_addr = flags.health_addr;
  options.leader_elect = flags.leader_elect;
  options.leader_election.lease_name = flags.lease_name;
  options.leader_election.lease_namespace =
      flags.lease_namespace.empty() ? options.rest.namespace_name : flags.lease_namespace;
  options.component = component;
  return options;
}

void block_termination_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

int run_until_signal(Manager& manager) {
  std::atomic<bool> done{false};
  std::thread waiter([&manager, &done] {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    timespec tick{0, 200 * 1000 * 1000};
    while (!done) {
      int received = sigtimedwait(&signals, nullptr, &tick);
      if (received > 0) {
        spdlog::info("event=signal signal={}", received == SIGTERM ? "SIGTERM" : "SIGINT");
        manager.stop();
        return;
      }
    }
  });
  int status = manager.run();
  done = true;
  waiter.join();
  return status;
}

}  // namespace llmops::kube
