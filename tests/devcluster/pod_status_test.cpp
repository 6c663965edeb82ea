#include "pod_status.h"

#include <gtest/gtest.h>

#include "pod_network.h"

namespace llmops::devcluster {
namespace {

using Json = nlohmann::json;

PodRun runWith(std::vector<ContainerRun> containers) {
  PodRun run;
  run.ip = parseIPv4("127.3.3.2");
  run.startTime = Clock::now();
  run.containers = std::move(containers);
  return run;
}

ContainerRun exited(int code, bool done) {
  ContainerRun container;
  container.name = "c";
  container.everStarted = true;
  container.done = done;
  container.lastTermination = Termination{code, 0, code ? "Error" : "Completed", {}, {}, {}};
  return container;
}

TEST(PodStatus, PhaseFollowsTheContainers) {
  const Json pod = {{"spec", {{"containers", Json::array({{{"name", "c"}}})}}}};
  ContainerRun waiting;
  waiting.name = "c";
  EXPECT_EQ(podPhase(pod, runWith({waiting})), "Pending");
  ContainerRun running = waiting;
  running.pid = 42;
  running.everStarted = true;
  EXPECT_EQ(podPhase(pod, runWith({running})), "Running");
  EXPECT_EQ(podPhase(pod, runWith({exited(3, false)})), "Running");  // restarting
  EXPECT_EQ(podPhase(pod, runWith({exited(0, true)})), "Succeeded");
  EXPECT_EQ(podPhase(pod, runWith({exited(0, true), exited(1, true)})), "Failed");
}

TEST(PodStatus, ReadyConditionsAndContainerStates) {
  ContainerRun running;
  running.name = "c";
  running.image = "python:3";
  running.pid = 42;
  running.everStarted = true;
  running.ready = true;
  running.restartCount = 2;
  running.lastTermination = Termination{3, 0, "Error", {}, {}, {}};
  Json pod = {{"spec", {{"containers", Json::array({{{"name", "c"}}})}}}};
  auto now = Clock::now();
  Json status = podStatus(pod, runWith({running}), now);
  EXPECT_EQ(status["phase"], "Running");
  EXPECT_EQ(status["podIP"], "127.3.3.2");
  const Json& container = status["containerStatuses"][0];
  EXPECT_EQ(container["restartCount"], 2);
  EXPECT_TRUE(container["state"].contains("running"));
  EXPECT_EQ(container["lastState"]["terminated"]["exitCode"], 3);
  EXPECT_EQ(container["containerID"], "process://42");
  for (const auto& condition : status["conditions"]) EXPECT_EQ(condition["status"], "True");

  // A condition that holds keeps its transition time.
  pod["status"] = status;
  pod["status"]["conditions"][2]["lastTransitionTime"] = "2020-01-01T00:00:00Z";
  Json again = podStatus(pod, runWith({running}), now + std::chrono::seconds(5));
  EXPECT_EQ(again["conditions"][2]["lastTransitionTime"], "2020-01-01T00:00:00Z");

  ContainerRun backingOff = exited(1, false);
  backingOff.nextStart = now + std::chrono::seconds(10);
  backingOff.backoff = std::chrono::seconds(10);
  Json crashing = podStatus(pod, runWith({backingOff}), now);
  EXPECT_EQ(crashing["containerStatuses"][0]["state"]["waiting"]["reason"], "CrashLoopBackOff");
  EXPECT_EQ(crashing["conditions"][2]["status"], "False");
}

}  // namespace
}  // namespace llmops::devcluster
