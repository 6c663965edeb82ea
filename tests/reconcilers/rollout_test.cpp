// The rollout state machine, tick by tick: an injected clock, fake pods and fake
// measurements (rollout_harness.h). Each row of a table is one reconcile and what the
// status must say after it.
#include "llmops/reconcilers/rollout.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>

#include "rollout_harness.h"

namespace llmops::reconcilers {
namespace {

using namespace testing;
using std::nullopt;

struct Row {
  std::string what;
  std::function<void(World&)> act;  // moves the world, then ticks
  std::string phase;
  int64_t stable;
  std::optional<int64_t> canary;
  int step;
  std::map<int64_t, int> traffic;
};

void run_table(World& world, const std::vector<Row>& rows) {
  for (const auto& row : rows) {
    SCOPED_TRACE(row.what);
    row.act(world);
    EXPECT_EQ(world.phase(), row.phase) << world.status().dump(1);
    EXPECT_EQ(world.stable(), row.stable);
    EXPECT_EQ(world.canary(), row.canary);
    EXPECT_EQ(world.step(), row.step);
    EXPECT_EQ(world.traffic(), row.traffic);
  }
}

auto tick() {
  return [](World& w) { w.tick(); };
}
auto later(std::chrono::milliseconds delta) {
  return [delta](World& w) {
    w.advance(delta);
    w.tick();
  };
}
auto sample(Measurement (*make)(TimePoint)) {
  return [make](World& w) { w.sample(make); };
}
auto edit(std::function<void(json&)> change) {
  return [change](World& w) {
    w.edit_spec(change);
    w.tick();
  };
}
auto set_model(const std::string& version) {
  return edit([version](json& spec) { spec["model"] = model_of(version); });
}

// A world with revision 1 stable and healthy.
World healthy_world(json deployment = sample_deployment()) {
  World world(std::move(deployment));
  world.settle();
  EXPECT_EQ(world.phase(), "Healthy");
  return world;
}

// Revision 2 running as canary, right after `ticks` rows of the happy path.
World canary_at_weight_25() {
  World world = healthy_world();
  world.edit_spec([](json& spec) { spec["model"] = model_of("v2"); });
  world.tick();  // canary started, pod created
  world.tick();  // pod ready: weight 25, pause
  EXPECT_EQ(world.traffic(), (std::map<int64_t, int>{{1, 75}, {2, 25}}));
  return world;
}

TEST(Rollout, FirstDeploymentBecomesStableAndHealthy) {
  World world;
  run_table(
      world,
      {
          {"created: revision 1 stable at once", tick(), "Progressing", 1, nullopt, 5, {{1, 100}}},
          {"pods ready", tick(), "Healthy", 1, nullopt, 5, {{1, 100}}},
      });
  EXPECT_EQ(world.pod_count(1), 4);
  EXPECT_EQ(world.status()["readyReplicas"], 4);
  EXPECT_EQ(world.status()["selector"], "llmops.dev/deployment=story");
  EXPECT_EQ(world.condition_reason("Available"), "MinimumReplicasAvailable");
  for (const auto& condition : world.status()["conditions"])
    EXPECT_EQ(condition["observedGeneration"], 1);
}

TEST(Rollout, HappyPathThroughEveryStep) {
  World world = healthy_world();
  run_table(
      world,
      {
          {"new model: canary 2 at step 0, no traffic yet",
           set_model("v2"),
           "Progressing",
           1,
           2,
           0,
           {{1, 100}}},
          {"canary pod ready: weight 25, timed pause",
           tick(),
           "Progressing",
           1,
           2,
           1,
           {{1, 75}, {2, 25}}},
          {"pause not over", later(9s), "Progressing", 1, 2, 1, {{1, 75}, {2, 25}}},
          {"pause over: analysis starts", later(1s), "Progressing", 1, 2, 2, {{1, 75}, {2, 25}}},
          {"first sample passes",
           sample(healthy_measurement),
           "Progressing",
           1,
           2,
           2,
           {{1, 75}, {2, 25}}},
          {"second passes: setWeight 50 waits for a second pod",
           sample(healthy_measurement),
           "Progressing",
           1,
           2,
           3,
           {{1, 75}, {2, 25}}},
          {"second pod ready: weight 50, indefinite pause",
           tick(),
           "Paused",
           1,
           2,
           4,
           {{1, 50}, {2, 50}}},
          {"still paused an hour later", later(3600s), "Paused", 1, 2, 4, {{1, 50}, {2, 50}}},
          {"promote through step 4: canary scales to 4 first",
           edit([](json& spec) {
             spec["rollout"]["promote"] = {{"revision", 2}, {"step", 4}};
           }),
           "Progressing",
           1,
           2,
           5,
           {{1, 50}, {2, 50}}},
          {"4 canary pods ready: promoted", tick(), "Healthy", 2, nullopt, 5, {{2, 100}}},
      });
  EXPECT_EQ(world.pod_count(2), 4);
  EXPECT_EQ(world.pod_count(1), 4) << "old pods stay until their streams drained";
  for (const auto& pod : world.pods)
    if (pod.revision == 2) EXPECT_EQ(pod.track, "stable");
  world.advance(29s);
  world.tick();
  EXPECT_EQ(world.pod_count(1), 4);
  world.advance(1s);
  world.tick();
  EXPECT_EQ(world.pod_count(1), 0);
  EXPECT_FALSE(world.status().contains("scaleDownAt"));
  for (const char* reason : {"RevisionCreated", "CanaryStarted", "WeightSet", "AnalysisStarted",
                             "AnalysisPass", "AnalysisPassed", "Promoted"}) {
    EXPECT_TRUE(world.has_event(reason)) << reason;
  }
  const auto& record = world.status()["revisions"][1];
  EXPECT_EQ(record["revision"], 2);
  EXPECT_TRUE(record.contains("promotedAt"));
}

TEST(Rollout, RequeueAfterNamesTheNextTimedThing) {
  World world = canary_at_weight_25();
  ASSERT_TRUE(world.last.requeue_after.has_value());
  EXPECT_DOUBLE_EQ(world.last.requeue_after->count(), 10.0);  // the pause
  world.advance(10s);
  world.tick();
  ASSERT_TRUE(world.last.requeue_after.has_value());
  EXPECT_DOUBLE_EQ(world.last.requeue_after->count(), 5.0);  // the first sample
}

TEST(Rollout, WeightWaitsForReadyCanaryPods) {
  World world = healthy_world();
  world.auto_ready = false;
  world.edit_spec([](json& spec) { spec["model"] = model_of("v2"); });
  world.tick();
  world.tick();
  world.tick();
  EXPECT_EQ(world.traffic(), (std::map<int64_t, int>{{1, 100}}));
  EXPECT_EQ(world.pod_count(2), 1);
  world.pods.back().ready = true;
  world.pods.back().phase = "Running";
  world.tick();
  EXPECT_EQ(world.traffic(), (std::map<int64_t, int>{{1, 75}, {2, 25}}));
}

// A failing analysis, wherever the analysis step sits: 100% to stable in the same
// reconcile, the canary's pods only after scaleDownAt, Degraded until the spec changes.
TEST(Rollout, AnalysisFailureAtEachStep) {
  const std::vector<json> layouts = {
      json::array({{{"analysis", json::object()}}, {{"setWeight", 50}}}),
      json::array({{{"setWeight", 25}}, {{"analysis", json::object()}}, {{"setWeight", 50}}}),
      json::array({{{"setWeight", 25}}, {{"setWeight", 50}}, {{"analysis", json::object()}}}),
      json::array({{{"setWeight", 25}},
                   {{"analysis", json::object()}},
                   {{"setWeight", 75}},
                   {{"analysis", json::object()}}}),
  };
  for (std::size_t layout = 0; layout < layouts.size(); ++layout) {
    // Fail at each analysis step of the layout.
    std::vector<int> analysis_steps;
    for (std::size_t i = 0; i < layouts[layout].size(); ++i)
      if (layouts[layout][i].contains("analysis")) analysis_steps.push_back(static_cast<int>(i));
    for (int failing : analysis_steps) {
      SCOPED_TRACE("layout " + std::to_string(layout) + ", failing at step " +
                   std::to_string(failing));
      json deployment = sample_deployment();
      deployment["spec"]["rollout"]["steps"] = layouts[layout];
      World world = healthy_world(deployment);
      world.edit_spec([](json& spec) { spec["model"] = model_of("v2"); });
      world.tick();
      for (int guard = 0; guard < 20 && world.step() < failing; ++guard) {
        if (analysis_schedule(world.deployment, world.now)) {
          world.sample(healthy_measurement);
          world.sample(healthy_measurement);
        } else {
          world.tick();
        }
      }
      ASSERT_EQ(world.step(), failing);
      world.tick();  // the analysis starts
      const auto weight_before = world.traffic();
      world.sample(failing_measurement);
      EXPECT_EQ(world.phase(), "Degraded");
      EXPECT_EQ(world.condition_reason("Degraded"), "AnalysisFailed");
      EXPECT_EQ(world.traffic(), (std::map<int64_t, int>{{1, 100}}));
      EXPECT_EQ(world.canary(), nullopt);
      EXPECT_EQ(world.status()["abortedRevision"], 2);
      EXPECT_EQ(world.status()["analysis"]["failures"], 1);
      const bool had_traffic = weight_before.count(2) && weight_before.at(2) > 0;
      // Never in the reconcile that moved the traffic.
      if (had_traffic) EXPECT_GT(world.pod_count(2), 0);
      world.tick();
      if (had_traffic) {
        EXPECT_GT(world.pod_count(2), 0) << "canary pods wait for scaleDownAt";
        world.advance(30s);
        world.tick();
      }
      EXPECT_EQ(world.pod_count(2), 0);
      EXPECT_EQ(world.pod_count(1), 4);
      world.advance(600s);
      world.tick();
      EXPECT_EQ(world.phase(), "Degraded") << "until the desired revision changes";
      EXPECT_EQ(world.pod_count(2), 0);
    }
  }
}

TEST(Rollout, DegradedUntilTheDesiredRevisionChanges) {
  World world = canary_at_weight_25();
  world.advance(10s);
  world.tick();
  world.sample(failing_measurement);
  ASSERT_EQ(world.phase(), "Degraded");
  run_table(
      world,
      {
          {"a new model: a new canary, no longer Degraded",
           set_model("v3"),
           "Progressing",
           1,
           3,
           0,
           {{1, 100}}},
          {"back to the failed v2: never stable, so the steps again (its draining pod is reused)",
           set_model("v2"),
           "Progressing",
           1,
           2,
           1,
           {{1, 75}, {2, 25}}},
      });
  EXPECT_FALSE(world.status().contains("abortedRevision"));
  EXPECT_EQ(world.status()["revisions"].size(), 3u);
}

TEST(Rollout, FailureLimitToleratesFailures) {
  json deployment = sample_deployment();
  deployment["spec"]["rollout"]["analysis"]["failureLimit"] = 1;
  World world = healthy_world(deployment);
  world.edit_spec([](json& spec) { spec["model"] = model_of("v2"); });
  world.tick();
  world.tick();
  world.advance(10s);
  world.tick();
  World twice = world;
  world.sample(failing_measurement);
  EXPECT_EQ(world.phase(), "Progressing") << "one failure is tolerated";
  EXPECT_EQ(world.step(), 2);
  world.sample(healthy_measurement);
  EXPECT_EQ(world.step(), 3) << "count (2) samples taken, failures within the limit";
  EXPECT_EQ(world.status()["analysis"]["passes"], 1);

  twice.sample(failing_measurement);
  twice.sample(failing_measurement);
  EXPECT_EQ(twice.phase(), "Degraded");
  EXPECT_EQ(twice.status()["analysis"]["failures"], 2);
}

TEST(Rollout, AbortThenRemoveToRetry) {
  World world = canary_at_weight_25();
  run_table(world,
            {
                {"abort: 100% stable at once",
                 edit([](json& spec) {
                   spec["rollout"]["abort"] = {{"revision", 2}};
                 }),
                 "Degraded",
                 1,
                 nullopt,
                 5,
                 {{1, 100}}},
                {"canary pods still draining", later(10s), "Degraded", 1, nullopt, 5, {{1, 100}}},
            });
  EXPECT_EQ(world.pod_count(2), 1);
  EXPECT_EQ(world.condition_reason("Degraded"), "Aborted");
  world.advance(20s);
  world.tick();
  EXPECT_EQ(world.pod_count(2), 0);
  run_table(world, {
                       {"abort removed: revision 2 retried from step 0",
                        edit([](json& spec) { spec["rollout"].erase("abort"); }),
                        "Progressing",
                        1,
                        2,
                        0,
                        {{1, 100}}},
                       {"and runs its steps", tick(), "Progressing", 1, 2, 1, {{1, 75}, {2, 25}}},
                   });
}

TEST(Rollout, WithoutDelayTheCanaryStillGoesOnlyAfterItsTrafficIsWritten) {
  World world = canary_at_weight_25();
  world.options.scale_down_delay = Seconds(0);
  world.edit_spec([](json& spec) { spec["rollout"]["abort"] = {{"revision", 2}}; });
  world.tick(std::nullopt, /*apply_status=*/false);  // the status write is lost
  EXPECT_TRUE(world.last.remove.empty()) << "the router may still send 25% there";
  world.tick();
  EXPECT_TRUE(world.last.remove.empty()) << "traffic 100% stable is written now";
  EXPECT_EQ(world.traffic(), (std::map<int64_t, int>{{1, 100}}));
  world.tick();
  EXPECT_EQ(world.last.remove, std::vector<std::string>{"story-r2-0"});
}

TEST(Rollout, PauseAndResume) {
  World world = canary_at_weight_25();
  run_table(world, {
                       {"paused during the timed pause",
                        edit([](json& spec) { spec["rollout"]["paused"] = true; }),
                        "Paused",
                        1,
                        2,
                        1,
                        {{1, 75}, {2, 25}}},
                       {"the pause's time passes: still held",
                        later(60s),
                        "Paused",
                        1,
                        2,
                        1,
                        {{1, 75}, {2, 25}}},
                       {"resumed: the pause is over, analysis starts",
                        edit([](json& spec) { spec["rollout"]["paused"] = false; }),
                        "Progressing",
                        1,
                        2,
                        2,
                        {{1, 75}, {2, 25}}},
                   });
  EXPECT_EQ(world.condition_reason("Progressing"), "RolloutInProgress");
}

TEST(Rollout, PausedHoldsAPendingWeightAndTheDeadline) {
  World world = healthy_world();
  world.auto_ready = false;
  world.edit_spec([](json& spec) {
    spec["model"] = model_of("v2");
    spec["rollout"]["paused"] = true;
  });
  world.tick();
  world.advance(3600s);
  world.tick();
  EXPECT_EQ(world.phase(), "Paused") << "no progress deadline while paused";
  world.edit_spec([](json& spec) { spec["rollout"]["paused"] = false; });
  world.tick();
  EXPECT_EQ(world.phase(), "Progressing");
  world.advance(59s);
  world.tick();
  EXPECT_EQ(world.phase(), "Progressing");
  world.advance(1s);
  world.tick();
  EXPECT_EQ(world.condition_reason("Degraded"), "ProgressDeadlineExceeded");
}

TEST(Rollout, PromoteThroughOneStep) {
  World world = canary_at_weight_25();
  // Step 1 is the timed pause: approving it skips the wait but not the analysis (step 2).
  run_table(world,
            {
                {"promote through step 1",
                 edit([](json& spec) {
                   spec["rollout"]["promote"] = {{"revision", 2}, {"step", 1}};
                 }),
                 "Progressing",
                 1,
                 2,
                 2,
                 {{1, 75}, {2, 25}}},
                {"analysis still runs", later(1s), "Progressing", 1, 2, 2, {{1, 75}, {2, 25}}},
            });
  ASSERT_TRUE(analysis_schedule(world.deployment, world.now).has_value());
}

TEST(Rollout, PromoteThroughAllSteps) {
  World world = canary_at_weight_25();
  run_table(world,
            {
                {"promote without step: completion, scaling the canary first",
                 edit([](json& spec) {
                   spec["rollout"]["promote"] = {{"revision", 2}};
                 }),
                 "Progressing",
                 1,
                 2,
                 5,
                 {{1, 75}, {2, 25}}},
                {"canary at full size: promoted", tick(), "Healthy", 2, nullopt, 5, {{2, 100}}},
            });
  EXPECT_TRUE(world.has_event("PromotedFully"));
}

TEST(Rollout, NewRevisionMidRollout) {
  World world = canary_at_weight_25();
  run_table(
      world,
      {
          {"revision 3 replaces canary 2: its traffic back to stable",
           set_model("v3"),
           "Progressing",
           1,
           3,
           0,
           {{1, 100}}},
          {"revision 3 takes its first weight", tick(), "Progressing", 1, 3, 1, {{1, 75}, {3, 25}}},
      });
  EXPECT_EQ(world.pod_count(2), 1) << "revision 2 drains first";
  world.advance(30s);
  world.tick();
  EXPECT_EQ(world.pod_count(2), 0);
  EXPECT_TRUE(world.has_event("CanarySuperseded"));
}

TEST(Rollout, RevertToStableCancelsTheCanaryAtOnce) {
  World world = canary_at_weight_25();
  run_table(world, {
                       {"spec back to v1", set_model("v1"), "Healthy", 1, nullopt, 5, {{1, 100}}},
                   });
  EXPECT_TRUE(world.has_event("CanaryCancelled"));
  EXPECT_EQ(world.pod_count(2), 1);
  world.advance(30s);
  world.tick();
  EXPECT_EQ(world.pod_count(2), 0);
}

// Promotes v2 fully (revision 2 stable), old pods gone.
World promoted_v2() {
  World world = healthy_world();
  world.edit_spec([](json& spec) {
    spec["model"] = model_of("v2");
    spec["rollout"]["promote"] = {{"revision", 2}};
  });
  world.settle();
  world.advance(30s);
  world.settle();
  EXPECT_EQ(world.stable(), 2);
  EXPECT_EQ(world.pod_count(1), 0);
  return world;
}

TEST(Rollout, RevertToAnOlderRevisionSkipsTheSteps) {
  World world = promoted_v2();
  run_table(world,
            {
                {"spec back to v1: revision 1 scaled up without steps",
                 set_model("v1"),
                 "Progressing",
                 2,
                 1,
                 5,
                 {{2, 100}}},
                {"revision 1 ready: it takes 100%", tick(), "Healthy", 1, nullopt, 5, {{1, 100}}},
            });
  EXPECT_TRUE(world.has_event("RollbackStarted"));
  EXPECT_EQ(world.status()["revisions"].size(), 2u) << "no new revision for an old spec";
}

TEST(Rollout, RollbackToNamesTheRevision) {
  World world = promoted_v2();
  run_table(world, {
                       {"rollbackTo 1 whatever spec.model says",
                        edit([](json& spec) {
                          spec["rollbackTo"] = {{"revision", 1}};
                        }),
                        "Progressing",
                        2,
                        1,
                        5,
                        {{2, 100}}},
                       {"done", tick(), "Healthy", 1, nullopt, 5, {{1, 100}}},
                       {"a new model is ignored while rollbackTo is set",
                        set_model("v3"),
                        "Healthy",
                        1,
                        nullopt,
                        5,
                        {{1, 100}}},
                       {"rollbackTo to an unknown revision: Degraded, nothing moves",
                        edit([](json& spec) {
                          spec["rollbackTo"] = {{"revision", 9}};
                        }),
                        "Degraded",
                        1,
                        nullopt,
                        5,
                        {{1, 100}}},
                       {"rollbackTo removed: spec.model (v3) is a new revision with steps",
                        edit([](json& spec) { spec.erase("rollbackTo"); }),
                        "Progressing",
                        1,
                        3,
                        0,
                        {{1, 100}}},
                   });
  EXPECT_EQ(world.condition_reason("Degraded"), "AsExpected");
}

TEST(Rollout, NoDataInconclusiveHoldsUntilDataComes) {
  World world = canary_at_weight_25();
  world.advance(10s);
  world.tick();
  run_table(world,
            {
                {"no data: held, Paused",
                 sample(empty_measurement),
                 "Paused",
                 1,
                 2,
                 2,
                 {{1, 75}, {2, 25}}},
                {"still no data", sample(empty_measurement), "Paused", 1, 2, 2, {{1, 75}, {2, 25}}},
                {"data: sampling goes on",
                 sample(healthy_measurement),
                 "Progressing",
                 1,
                 2,
                 2,
                 {{1, 75}, {2, 25}}},
                {"second pass: next step",
                 sample(healthy_measurement),
                 "Progressing",
                 1,
                 2,
                 3,
                 {{1, 75}, {2, 25}}},
            });
  EXPECT_EQ(world.condition_reason("Progressing"), "RolloutInProgress");
  EXPECT_TRUE(world.has_event("AnalysisInconclusive"));
}

TEST(Rollout, NoDataFailPolicyRollsBack) {
  json deployment = sample_deployment();
  deployment["spec"]["rollout"]["analysis"]["noData"] = "Fail";
  World world = healthy_world(deployment);
  world.edit_spec([](json& spec) { spec["model"] = model_of("v2"); });
  world.tick();
  world.tick();
  world.advance(10s);
  world.tick();
  world.sample(empty_measurement);
  EXPECT_EQ(world.phase(), "Degraded");
  EXPECT_EQ(world.condition_reason("Degraded"), "AnalysisFailed");
}

TEST(Rollout, NoDataPassPolicyPassesVisibly) {
  json deployment = sample_deployment();
  deployment["spec"]["rollout"]["analysis"]["noData"] = "Pass";
  World world = healthy_world(deployment);
  world.edit_spec([](json& spec) { spec["model"] = model_of("v2"); });
  world.tick();
  world.tick();
  world.advance(10s);
  world.tick();
  world.sample(empty_measurement);
  const json& analysis = world.status()["analysis"];
  EXPECT_EQ(analysis["passes"], 1);
  EXPECT_TRUE(analysis["samples"][0]["metrics"].empty()) << "no value is invented";
  EXPECT_FALSE(analysis["metrics"][0].contains("value"));
  const auto& event = world.events.back();
  EXPECT_NE(event.message.find("no data"), std::string::npos) << event.message;
}

TEST(Rollout, CanaryNeverReadyHitsTheProgressDeadline) {
  World world = healthy_world();
  world.auto_ready = false;
  world.edit_spec([](json& spec) { spec["model"] = model_of("v2"); });
  world.tick();
  ASSERT_TRUE(world.last.requeue_after.has_value());
  EXPECT_DOUBLE_EQ(world.last.requeue_after->count(), 60.0);
  run_table(world, {
                       {"59s: still waiting", later(59s), "Progressing", 1, 2, 0, {{1, 100}}},
                       {"60s: rolled back", later(1s), "Degraded", 1, nullopt, 5, {{1, 100}}},
                   });
  EXPECT_EQ(world.condition_reason("Degraded"), "ProgressDeadlineExceeded");
  world.tick();
  EXPECT_EQ(world.pod_count(2), 0) << "a canary without traffic goes at once";
}

TEST(Rollout, ScaleDuringARollout) {
  World world = canary_at_weight_25();
  world.edit_spec([](json& spec) { spec["replicas"] = 8; });
  world.tick();
  EXPECT_EQ(world.pod_count(1), 8);
  EXPECT_EQ(world.pod_count(2), 2) << "25% of 8";
  EXPECT_EQ(world.traffic(), (std::map<int64_t, int>{{1, 75}, {2, 25}}));
  world.edit_spec([](json& spec) { spec["replicas"] = 2; });
  world.tick();
  EXPECT_EQ(world.pod_count(1), 2);
  EXPECT_EQ(world.pod_count(2), 1) << "at least one";
  world.edit_spec([](json& spec) { spec["rollout"]["promote"] = {{"revision", 2}}; });
  world.settle();
  EXPECT_EQ(world.stable(), 2);
  EXPECT_EQ(world.pod_count(2), 2);
}

TEST(Rollout, ControlsForAGoneRevisionHaveNoEffect) {
  World world = promoted_v2();
  // promote and abort for revision 2 stay in the spec (GitOps) while 3 rolls out.
  world.edit_spec([](json& spec) {
    spec["rollout"]["abort"] = {{"revision", 2}};
    spec["rollout"]["promote"] = {{"revision", 2}};
    spec["model"] = model_of("v3");
  });
  world.tick();
  world.tick();
  EXPECT_EQ(world.canary(), 3);
  EXPECT_EQ(world.step(), 1) << "not promoted by a promote for revision 2";
  EXPECT_EQ(world.phase(), "Progressing") << "not aborted by an abort for revision 2";
  // Revision 3 gets rolled back; a promote for 3 left afterwards does nothing either.
  world.edit_spec([](json& spec) { spec["rollout"]["abort"] = {{"revision", 3}}; });
  world.tick();
  EXPECT_EQ(world.phase(), "Degraded");
  world.edit_spec([](json& spec) { spec["rollout"]["promote"] = {{"revision", 3}}; });
  world.tick();
  EXPECT_EQ(world.phase(), "Degraded");
  EXPECT_EQ(world.stable(), 2);
  EXPECT_EQ(world.traffic(), (std::map<int64_t, int>{{2, 100}}));
}

TEST(Rollout, FailedPodsAreReplaced) {
  World world = healthy_world();
  world.pods[0].phase = "Failed";
  world.pods[0].ready = false;
  const std::string failed = world.pods[0].name;
  world.tick();
  EXPECT_EQ(world.last.remove, std::vector<std::string>{failed});
  ASSERT_EQ(world.last.create.size(), 1u);
  EXPECT_NE(world.last.create[0]["metadata"]["name"], failed) << "a fresh name";
  world.tick();
  EXPECT_EQ(world.phase(), "Healthy");
}

// Restart-resume: the decision depends only on the resource, the pods and now. An operator
// killed between any two writes (status written but not the pods, or the reverse) and
// restarted (a fresh call with what the API holds) ends the rollout the same way.
TEST(Rollout, RestartAtAnyPointResumes) {
  for (int crash_at = 0; crash_at < 14; ++crash_at) {
    for (int lost = 0; lost < 2; ++lost) {
      SCOPED_TRACE("crash at tick " + std::to_string(crash_at) +
                   (lost ? " losing the pod writes" : " losing the status write"));
      World world = healthy_world();
      world.edit_spec([](json& spec) {
        spec["model"] = model_of("v2");
        spec["rollout"]["steps"].erase(4);  // no indefinite pause: runs to completion
      });
      int ticks = 0;
      bool restarted = false;
      for (int guard = 0; guard < 40 && world.stable() != 2; ++guard) {
        const bool crash = ticks++ == crash_at;
        std::optional<Measurement> measurement;
        if (auto due = analysis_schedule(world.deployment, world.now)) {
          world.now = std::max(world.now, due->due);
          measurement = healthy_measurement(world.now);
        } else if (world.last.requeue_after && !restarted) {
          // A restarted operator reconciles at once; otherwise time moves to the next
          // timed thing.
          world.advance(
              std::chrono::duration_cast<std::chrono::milliseconds>(*world.last.requeue_after));
        }
        if (!measurement) {
          // The same input twice gives the same decision: nothing is remembered.
          const ReconcileInput input{world.deployment, world.pods, std::nullopt, world.now,
                                     world.options};
          const ReconcileDecision first = reconcile_deployment(input);
          const ReconcileDecision second = reconcile_deployment(input);
          EXPECT_EQ(first.status_json, second.status_json);
          EXPECT_EQ(first.create, second.create);
        }
        world.tick(measurement, !(crash && lost == 0), !(crash && lost == 1));
        restarted = crash;
      }
      EXPECT_EQ(world.stable(), 2);
      EXPECT_EQ(world.traffic(), (std::map<int64_t, int>{{2, 100}}));
      world.advance(30s);
      world.settle();
      EXPECT_EQ(world.phase(), "Healthy");
      EXPECT_EQ(world.pod_count(2), 4);
      EXPECT_EQ(world.pod_count(1), 0);
    }
  }
}

TEST(Rollout, StatusRoundTripsUnchanged) {
  World world = canary_at_weight_25();
  world.advance(10s);
  world.tick();
  world.sample(healthy_measurement);
  const json written = world.status();
  EXPECT_EQ(to_json(parse_rollout_status(written)), written);
  world.tick();
  EXPECT_FALSE(world.last.status_changed) << "an unchanged world writes nothing";
}

TEST(Rollout, InvalidSpecNamesTheField) {
  json deployment = sample_deployment();
  deployment["spec"]["rollout"]["steps"][1] = {{"pause", {{"duration", "soon"}}}};
  World world(deployment);
  try {
    world.tick();
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("spec.rollout.steps[1].pause.duration"),
              std::string::npos)
        << error.what();
  }
}

// Pods that crash-loop (a sha256 mismatch, a missing file, an unreachable URL) must say
// why in the status and an event, not sit in Progressing/Scaling with no reason forever.
TEST(Rollout, CrashLoopingPodsSurfaceTheirTerminationReason) {
  World world;
  world.auto_ready = false;
  world.tick();
  ASSERT_EQ(world.pods.size(), 4u);
  world.tick();
  EXPECT_EQ(world.condition_reason("Progressing"), "Scaling");  // starting: not a failure yet
  for (auto& pod : world.pods) {
    pod.phase = "Running";
    pod.restarts = 3;
    pod.failure =
        "container runtime: CrashLoopBackOff; last exit code 1 (Error): error: model file "
        "/models/story-v1.gguf: sha256 mismatch";
  }
  world.advance(5s);
  world.tick();
  EXPECT_EQ(world.phase(), "Progressing");
  EXPECT_EQ(world.condition_reason("Progressing"), "PodsFailing");
  EXPECT_NE(world.condition_message("Progressing").find("sha256 mismatch"), std::string::npos)
      << world.condition_message("Progressing");
  EXPECT_NE(world.condition_message("Progressing").find("story-r1-0"), std::string::npos);
  EXPECT_TRUE(world.has_event("PodsFailing"));
  // One event per new failure, not one per reconcile.
  const auto events = world.events.size();
  world.advance(5s);
  world.tick();
  EXPECT_EQ(world.events.size(), events);
  // Once the pods run, the reason goes.
  for (auto& pod : world.pods) {
    pod.ready = true;
    pod.failure.clear();
  }
  world.settle();
  EXPECT_EQ(world.phase(), "Healthy");
}

TEST(Rollout, CrashLoopingCanaryPodsSurfaceTheirTerminationReason) {
  World world;
  world.settle();
  world.auto_ready = false;
  world.edit_spec([](json& spec) { spec["model"] = model_of("v2"); });
  world.tick();
  world.tick();
  bool any = false;
  for (auto& pod : world.pods) {
    if (pod.revision != 2) continue;
    pod.phase = "Running";
    pod.failure = "container runtime: CrashLoopBackOff; last exit code 1 (Error): no such file";
    any = true;
  }
  ASSERT_TRUE(any);
  world.tick();
  EXPECT_EQ(world.condition_reason("Progressing"), "PodsFailing");
  EXPECT_NE(world.condition_message("Progressing").find("no such file"), std::string::npos);
}

// A spec the reconciler cannot use (spec: null, a quantity that is not one, a name no
// Service can carry) is reported in the status, not only in the operator's log.
TEST(Rollout, InvalidSpecsAreReportedInTheStatus) {
  struct Case {
    const char* what;
    std::function<void(json&)> edit;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"spec: null", [](json& d) { d["spec"] = nullptr; }, "spec"},
      {"cpu: lots",
       [](json& d) {
         d["spec"]["runtime"]["resources"] = {{"requests", {{"cpu", "lots"}}}};
       },
       "spec.runtime.resources.requests.cpu"},
      {"memory: 1.5.5Gi",
       [](json& d) {
         d["spec"]["runtime"]["resources"] = {{"limits", {{"memory", "1.5.5Gi"}}}};
       },
       "spec.runtime.resources.limits.memory"},
      {"a name no Service can carry", [](json& d) { d["metadata"]["name"] = "1story"; }, "Service"},
  };
  for (const auto& c : cases) {
    json deployment = sample_deployment();
    c.edit(deployment);
    std::string error;
    try {
      reconcile_deployment({deployment, {}, std::nullopt, start_time(), {}});
    } catch (const std::invalid_argument& e) {
      error = e.what();
    }
    EXPECT_NE(error.find(c.message), std::string::npos) << c.what << ": " << error;
    const ReconcileDecision decision =
        invalid_spec_decision({deployment, {}, std::nullopt, start_time(), {}}, error);
    EXPECT_TRUE(decision.status_changed) << c.what;
    EXPECT_TRUE(decision.create.empty() && decision.remove.empty()) << c.what;
    const json& status = decision.status_json;
    EXPECT_EQ(status["phase"], "Degraded") << c.what;
    bool found = false;
    for (const auto& condition : status["conditions"]) {
      if (condition["type"] != "Degraded") continue;
      found = true;
      EXPECT_EQ(condition["status"], "True");
      EXPECT_EQ(condition["reason"], "InvalidSpec");
      EXPECT_NE(condition["message"].get<std::string>().find(c.message), std::string::npos);
    }
    EXPECT_TRUE(found) << c.what;
    // Written once: the same decision on its own status changes nothing.
    deployment["status"] = status;
    EXPECT_FALSE(invalid_spec_decision({deployment, {}, std::nullopt, start_time(), {}}, error)
                     .status_changed)
        << c.what;
  }
  // A fixed spec clears it.
  json deployment = sample_deployment();
  deployment["status"] =
      invalid_spec_decision({deployment, {}, std::nullopt, start_time(), {}}, "bad").status_json;
  const auto decision = reconcile_deployment({deployment, {}, std::nullopt, start_time(), {}});
  EXPECT_NE(decision.status_json["phase"], "Degraded");
}

// Found by reconcilers_prometheus_text_fuzz: an object that is not a JSON object at all
// (a string, an array, null) is refused by the reconciler and still gets a decision.
TEST(InvalidSpec, ObjectThatIsNotAnObject) {
  for (const json& object : {json("{mea~"), json::array({1, 2}), json(nullptr), json(3)}) {
    EXPECT_THROW(reconcile_deployment({object, {}, std::nullopt, start_time(), {}}),
                 std::invalid_argument)
        << object.dump();
    const auto decision =
        invalid_spec_decision({object, {}, std::nullopt, start_time(), {}}, "not an object");
    EXPECT_EQ(decision.status_json["phase"], "Degraded") << object.dump();
  }
}

}  // namespace
}  // namespace llmops::reconcilers
