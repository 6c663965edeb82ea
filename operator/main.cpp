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
#include "llmops/api/llmdeployment.h"
#include "llmops/common/logging.h"
#include "llmops/kube/operator_cli.h"
#include "llmops/kube/owner_refs.h"
#include "llmops/version.h"

namespace {

// Flags of this binary, beside the shared ones.
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

// The shared flags and this binary's, bound to `flags` and `own`.
llmops::FlagSet operator_flag_set(llmops::kube::OperatorFlags& flags, OwnFlags& own) {
  llmops::FlagSet set(llmops::kube::operator_synopsis("llmops-operator"));
  llmops::kube::declare_operator_flags(set, flags);
  set.custom(
         "--router-metrics-url",
         [&own](const std::string& value) {
           if (value.rfind("http://", 0) != 0 && value.rfind("https://", 0) != 0)
             throw llmops::UsageError("--router-metrics-url wants an http(s) URL, got " + value);
           own.router_metrics_urls.push_back(value);
         },
         "an llmops-router /metrics for the canary analysis\n"
         "(repeatable; per-revision upstream errors)",
         "URL")
      .custom(
          "--scale-down-delay-seconds",
          [&own](const std::string& value) {
            own.scale_down_delay_seconds = number_flag("--scale-down-delay-seconds", value, 0);
          },
          "how long pods of a revision that left the traffic keep\n"
          "running so their streams drain",
          "S", "30")
      .custom(
          "--pod-termination-grace-seconds",
          [&own](const std::string& value) {
            own.termination_grace_seconds =
                static_cast<int>(number_flag("--pod-termination-grace-seconds", value, 1));
          },
          "terminationGracePeriodSeconds of runtime pods", "S", "45");
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace llmops::kube;
  using namespace llmops::operator_main;
  block_termination_signals();
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--version") {
      std::cout << "llmops-operator " << llmops::kVersion << "\n";
      return 0;
    }
  }
  OperatorFlags flags;
  OwnFlags own;
  llmops::FlagSet set = operator_flag_set(flags, own);
  try {
    const auto rest = set.parse(std::vector<std::string>(argv + 1, argv + argc));
    if (!rest.empty()) throw llmops::UsageError("unexpected argument " + rest.front());
    if (!set.help_requested()) check_operator_flags(flags);
  } catch (const UsageError& error) {
    std::cerr << "error: " << error.what() << "\n" << set.help();
    return 2;
  }
  if (set.help_requested()) {
    std::cout << "llmops-operator " << llmops::kVersion << "\n" << set.help();
    return 0;
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
    controller.watch_owned(pods, llmops::api::kGroup, llmops::api::kKind);
    controller.watch_owned(services, llmops::api::kGroup, llmops::api::kKind);
    spdlog::info("event=starting router_metrics_urls={} scale_down_delay_seconds={}",
                 own.router_metrics_urls.size(), own.scale_down_delay_seconds);
    return run_until_signal(manager);
  } catch (const std::exception& error) {
    spdlog::error("event=fatal error=\"{}\"", error.what());
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
}
