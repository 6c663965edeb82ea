#include "llmops/kube/operator_cli.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "llmops/common/host_port.h"

namespace llmops::kube {

std::string operator_usage(const std::string& program, const std::string& extra_help) {
  return "usage: " + program +
         " [--kubeconfig PATH] [--context NAME] [--namespace NS] [--leader-elect]\n"
         "       [--metrics-addr HOST:PORT] [--health-addr HOST:PORT]\n"
         "  --kubeconfig PATH          kubeconfig file (default $KUBECONFIG, in-cluster, "
         "~/.kube/config)\n"
         "  --context NAME             kubeconfig context (default current-context)\n"
         "  --namespace NS             watch only NS (default all namespaces)\n"
         "  --leader-elect             run controllers only while holding the Lease\n"
         "  --lease-name NAME          Lease name (llmops-operator)\n"
         "  --lease-namespace NS       Lease namespace (the context's namespace)\n"
         "  --metrics-addr HOST:PORT   /metrics (0.0.0.0:8080; 0 disables)\n"
         "  --health-addr HOST:PORT    /healthz, /readyz (0.0.0.0:8081; 0 disables)\n"
         "  --workers N                reconcile workers per controller (2)\n"
         "  --log-level LEVEL          trace|debug|info|warn|error (info)\n"
         "  --insecure-skip-tls-verify do not verify the API server's certificate (unsafe)\n" +
         extra_help;
}

OperatorFlags parse_operator_flags(int argc, char** argv,
                                   const std::map<std::string, std::string>& extra_flags) {
  OperatorFlags flags;
  flags.extra = extra_flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string inline_value;
    bool has_inline = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_inline = true;
    }
    auto value = [&]() -> std::string {
      if (has_inline) return inline_value;
      if (i + 1 >= argc) throw UsageError(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--kubeconfig") {
      flags.kubeconfig = value();
    } else if (arg == "--context") {
      flags.context = value();
    } else if (arg == "--namespace") {
      flags.namespace_name = value();
    } else if (arg == "--leader-elect") {
      flags.leader_elect = has_inline ? inline_value != "false" : true;
    } else if (arg == "--insecure-skip-tls-verify") {
      flags.insecure_skip_tls_verify = has_inline ? inline_value != "false" : true;
    } else if (arg == "--metrics-addr") {
      flags.metrics_addr = value();
    } else if (arg == "--health-addr") {
      flags.health_addr = value();
    } else if (arg == "--lease-name") {
      flags.lease_name = value();
    } else if (arg == "--lease-namespace") {
      flags.lease_namespace = value();
    } else if (arg == "--log-level") {
      flags.log_level = value();
    } else if (arg == "--workers") {
      std::string text = value();
      try {
        flags.workers = std::stoi(text);
      } catch (const std::exception&) {
        throw UsageError("--workers wants a number, got " + text);
      }
      if (flags.workers < 1) throw UsageError("--workers must be at least 1");
    } else if (arg.rfind("--", 0) == 0 && extra_flags.count(arg.substr(2)) != 0) {
      flags.extra[arg.substr(2)] = value();
    } else {
      throw UsageError("unknown flag " + arg);
    }
  }
  for (const auto& [flag, address] : {std::pair{"--metrics-addr", flags.metrics_addr},
                                      std::pair{"--health-addr", flags.health_addr}}) {
    if (address == "0") continue;
    parse_host_port(address, flag, EmptyHost::kAnyAddress);
  }
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
