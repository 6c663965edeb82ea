// llmops-operator: the controller runtime running the LLMDeployment reconciler (issue 8).
// Informers for LLMDeployments and for the Pods and Services labelled
// llmops.dev/deployment; one controller whose reconcile reads those caches, samples the
// canary's metrics when an analysis is due, decides (reconcilers/) and writes the result.
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "llmdeployment/canary_sampler.h"
#include "llmdeployment/deployment_controller.h"
#include "llmops/common/logging.h"
#include "llmops/kube/operator_cli.h"
#include "llmops/kube/owner_refs.h"
#include "llmops/version.h"

namespace {

const char* kExtraHelp =
    "  --router-metrics-url URL   an llmops-router /metrics for the canary analysis\n"
    "                             (repeatable; per-revision upstream errors)\n"
    "  --scale-down-delay-seconds S\n"
    "                             how long pods of a revision that left the traffic keep\n"
    "                             running so their streams drain (30)\n"
    "  --pod-termination-grace-seconds S\n"
    "                             terminationGracePeriodSeconds of runtime pods (45)\n";

// Flags of this binary, taken out of argv before the shared parser sees it (it knows only
// single-valued flags, and --router-metrics-url repeats).
struct OwnFlags {
  std::vector<std::string> router_metrics_urls;
  double scale_down_delay_seconds = 30;
  int termination_grace_seconds = 45;
};

double number_flag(const std::string& flag, const std::string& text, double min_value) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || value < min_value)
    throw llmops::UsageError(flag + " wants a number >= " + std::to_string(min_value) + ", got " +
                             text);
  return value;
}

OwnFlags take_own_flags(std::vector<char*>& args) {
  OwnFlags flags;
  std::vector<char*> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    bool has_value = false;
    std::string name = arg;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    if (name != "--router-metrics-url" && name != "--scale-down-delay-seconds" &&
        name != "--pod-termination-grace-seconds") {
      rest.push_back(args[i]);
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) throw llmops::UsageError(name + " needs a value");
      value = args[++i];
    }
    if (name == "--router-metrics-url") {
      if (value.rfind("http://", 0) != 0 && value.rfind("https://", 0) != 0)
        throw llmops::UsageError("--router-metrics-url wants an http(s) URL, got " + value);
      flags.router_metrics_urls.push_back(value);
    } else if (name == "--scale-down-delay-seconds") {
      flags.scale_down_delay_seconds = number_flag(name, value, 0);
    } else {
      flags.termination_grace_seconds = static_cast<int>(number_flag(name, value, 1));
    }
  }
  args = rest;
  return flags;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace llmops::kube;
  using namespace llmops::operator_main;
  block_termination_signals();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << "llmops-operator " << llmops::kVersion << "\n"
                << operator_usage("llmops-operator", kExtraHelp);
      return 0;
    }
    if (arg == "--version") {
      std::cout << "llmops-operator " << llmops::kVersion << "\n";
      return 0;
    }
  }
  OperatorFlags flags;
  OwnFlags own;
  try {
    std::vector<char*> args(argv, argv + argc);
    own = take_own_flags(args);
    flags = parse_operator_flags(static_cast<int>(args.size()), args.data());
  } catch (const UsageError& error) {
    std::cerr << "error: " << error.what() << "\n" << operator_usage("llmops-operator", kExtraHelp);
    return 2;
  }
  try {
    llmops::setup_logging(flags.log_level);
    Manager manager(manager_options(flags, "llmops-operator"));
    Informer& deployments = manager.informer_for(kLlmDeployments);
    Informer& pods = manager.informer_for(kPods, llmops::reconcilers::kDeploymentLabel);
    Informer& services = manager.informer_for(kServices, llmops::reconcilers::kDeploymentLabel);
    pods.add_index(kOwnerIndex, index_by_owner_uid);

    DeploymentControllerOptions options;
    options.reconcile.scale_down_delay = llmops::reconcilers::Seconds(own.scale_down_delay_seconds);
    options.reconcile.pod.termination_grace_seconds = own.termination_grace_seconds;
    auto sampler = std::make_shared<CanarySampler>(curl_metrics_fetcher(), own.router_metrics_urls);
    DeploymentController reconciler(manager.client(), deployments, pods, services, manager.events(),
                                    sampler, options);

    ControllerOptions controller_options;
    controller_options.name = "llmdeployment";
    controller_options.workers = flags.workers;
    Controller& controller = manager.add_controller(
        controller_options,
        [&reconciler](const std::string& key) { return reconciler.reconcile(key); });
    controller.watch_for(deployments);
    controller.watch_owned(pods, "llmops.dev", "LLMDeployment");
    controller.watch_owned(services, "llmops.dev", "LLMDeployment");
    spdlog::info("event=starting router_metrics_urls={} scale_down_delay_seconds={}",
                 own.router_metrics_urls.size(), own.scale_down_delay_seconds);
    return run_until_signal(manager);
  } catch (const std::exception& error) {
    spdlog::error("event=fatal error=\"{}\"", error.what());
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
}
