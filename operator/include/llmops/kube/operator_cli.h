// The command line shared by llmops controller binaries (llmops-operator and test
// operators): flags → ManagerOptions, logging setup, and running a Manager until SIGTERM
// or SIGINT.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "llmops/common/flags.h"
#include "llmops/common/usage_error.h"
#include "llmops/kube/manager.h"

namespace llmops::kube {

using llmops::FlagSet;
using llmops::UsageError;  // common/'s, for code that uses namespace llmops::kube

struct OperatorFlags {
  std::string kubeconfig;
  std::string context;
  std::string namespace_name;  // "" = all namespaces
  bool leader_elect = false;
  std::string metrics_addr = "0.0.0.0:8080";
  std::string health_addr = "0.0.0.0:8081";
  bool insecure_skip_tls_verify = false;
  std::string lease_name = "llmops-operator";
  std::string lease_namespace;  // "" = the kubeconfig context's namespace
  int workers = 2;
  std::string log_level = "info";
  // Flags a binary adds (name without dashes → value), declared in `extra_flags`.
  std::map<std::string, std::string> extra;
};

// Declares the shared flags on `set`, bound to `flags` (whose values are the defaults).
void declare_operator_flags(FlagSet& set, OperatorFlags& flags);
// After parsing: the addresses are HOST:PORT or "0". Throws UsageError.
void check_operator_flags(const OperatorFlags& flags);
std::string operator_synopsis(const std::string& program);
// The synopsis, the shared flags (help written from their declarations), then `extra_help`.
std::string operator_usage(const std::string& program, const std::string& extra_help = "");

// Throws UsageError for unknown flags and bad values. `extra_flags` lists additional
// flags taking a value, with their defaults.
OperatorFlags parse_operator_flags(int argc, char** argv,
                                   const std::map<std::string, std::string>& extra_flags = {});

// Loads the kubeconfig (or in-cluster config) the flags name; logs insecure mode loudly.
ManagerOptions manager_options(const OperatorFlags& flags, const std::string& component);

// Blocks SIGTERM and SIGINT in this thread and every thread started after: call first
// thing in main, so that only run_until_signal's thread receives them.
void block_termination_signals();
// Runs the manager; the first SIGTERM/SIGINT stops it. Returns Manager::run()'s status.
int run_until_signal(Manager& manager);

}  // namespace llmops::kube
