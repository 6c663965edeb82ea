// llmops-operator: the controller runtime for LLMDeployments. Until the reconcilers land
// (issue 8), it runs the machinery they will plug into — the LLMDeployment informer, leader
// election, /metrics, /healthz, /readyz — with a controller that logs what it observes.
#include <spdlog/spdlog.h>

#include <iostream>
#include <string>

#include "llmops/kube/operator_cli.h"

namespace {

const llmops::kube::GroupVersionResource kLlmDeployments{"llmops.dev", "v1alpha1", "llmdeployments",
                                                         true};

}  // namespace

int main(int argc, char** argv) {
  using namespace llmops::kube;
  block_termination_signals();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << operator_usage("llmops-operator");
      return 0;
    }
  }
  OperatorFlags flags;
  try {
    flags = parse_operator_flags(argc, argv);
  } catch (const UsageError& error) {
    std::cerr << "error: " << error.what() << "\n" << operator_usage("llmops-operator");
    return 2;
  }
  try {
    setup_logging(flags.log_level);
    Manager manager(manager_options(flags, "llmops-operator"));
    Informer& deployments = manager.informer_for(kLlmDeployments);
    ControllerOptions options;
    options.name = "llmdeployment";
    options.workers = flags.workers;
    Controller& controller =
        manager.add_controller(options, [&deployments](const std::string& key) {
          ObjectPtr object = deployments.store().get(key);
          if (!object) {
            spdlog::info("event=observed key={} state=deleted", key);
            return Result::done();
          }
          const auto& metadata = (*object)["metadata"];
          spdlog::info("event=observed key={} generation={} resource_version={}", key,
                       metadata.value("generation", 0), metadata.value("resourceVersion", ""));
          return Result::done();
        });
    controller.watch_for(deployments);
    return run_until_signal(manager);
  } catch (const std::exception& error) {
    spdlog::error("event=fatal error=\"{}\"", error.what());
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
}
