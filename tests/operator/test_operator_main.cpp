// llmops-test-operator: the operator machinery with a trivial reconciler, for the
// integration tests and the benchmark (the real LLMDeployment reconciler is
// llmops-operator's, in operator/llmdeployment/ and reconcilers/).
// It copies metadata.generation into status.observedGeneration of each LLMDeployment
// (from the informer cache, PUT /status with the cached resourceVersion, so a concurrent
// writer causes a 409 that the controller retries), and logs every informer event.
//   extra flags: --reconcile-delay-ms N  sleep between reading and writing (0)
//                --record-events true    record an Event per status write (false)
#include <spdlog/spdlog.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "llmops/api/llmdeployment.h"
#include "llmops/common/logging.h"
#include "llmops/kube/api_error.h"
#include "llmops/kube/operator_cli.h"

namespace {

using namespace llmops::kube;

const GroupVersionResource kLlmDeployments{llmops::api::kGroup, llmops::api::kVersion,
                                           llmops::api::kResource, true};

void log_informer_events(Informer& informer) {
  informer.add_event_handlers(
      {[](const ObjectPtr& object) {
         spdlog::info("event=informer type=add key={} resource_version={}", object_key(*object),
                      resource_version_of(*object));
       },
       [](const ObjectPtr&, const ObjectPtr& object) {
         spdlog::info("event=informer type=update key={} resource_version={}", object_key(*object),
                      resource_version_of(*object));
       },
       [](const ObjectPtr& object) {
         spdlog::info("event=informer type=delete key={}", object_key(*object));
       }});
}

}  // namespace

int main(int argc, char** argv) {
  block_termination_signals();
  OperatorFlags flags;
  try {
    flags =
        parse_operator_flags(argc, argv, {{"reconcile-delay-ms", "0"}, {"record-events", "false"}});
  } catch (const UsageError& error) {
    std::cerr << "error: " << error.what() << "\n"
              << operator_usage("llmops-test-operator",
                                "  --reconcile-delay-ms N     pause before writing status (0)\n"
                                "  --record-events true       an Event per status write\n");
    return 2;
  }
  try {
    llmops::setup_logging(flags.log_level);
    const auto delay = std::chrono::milliseconds(std::stoi(flags.extra["reconcile-delay-ms"]));
    const bool record_events = flags.extra["record-events"] == "true";
    Manager manager(manager_options(flags, "llmops-test-operator"));
    Informer& deployments = manager.informer_for(kLlmDeployments);
    log_informer_events(deployments);
    auto client = manager.client();
    std::atomic<long> reconciles{0};
    ControllerOptions options;
    options.name = "observed-generation";
    options.workers = flags.workers;
    Controller& controller = manager.add_controller(options, [&](const std::string& key) {
      ++reconciles;
      ObjectPtr cached = deployments.store().get(key);
      if (!cached) {
        spdlog::info("event=reconcile key={} state=absent", key);
        return Result::done();
      }
      long generation = (*cached)["metadata"].value("generation", 0L);
      long observed =
          cached->contains("status") ? (*cached)["status"].value("observedGeneration", 0L) : 0L;
      spdlog::info("event=reconcile key={} generation={} observed={}", key, generation, observed);
      if (observed == generation) return Result::done();
      if (delay.count() > 0) std::this_thread::sleep_for(delay);
      nlohmann::json object = *cached;
      object["status"]["observedGeneration"] = generation;
      try {
        client->update_status(kLlmDeployments, object);
      } catch (const ConflictError& error) {
        spdlog::info("event=status_conflict key={} error=\"{}\"", key, error.what());
        return Result::error(error.what());  // the cache will catch up; retried with backoff
      }
      spdlog::info("event=status_written key={} observed_generation={}", key, generation);
      if (record_events) {
        manager.events().record(object, "Normal", "ObservedGeneration",
                                "observed generation " + std::to_string(generation));
      }
      return Result::done();
    });
    controller.watch_for(deployments);
    int status = run_until_signal(manager);
    spdlog::info("event=exit reconciles={}", reconciles.load());
    return status;
  } catch (const std::exception& error) {
    spdlog::error("event=fatal error=\"{}\"", error.what());
    return 1;
  }
}
