#include "llmops/reconcilers/rollout.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "llmops/api/llmdeployment.h"
#include "llmops/reconcilers/canary_analysis.h"
#include "llmops/reconcilers/conditions.h"
#include "llmops/reconcilers/deployment_spec.h"
#include "llmops/reconcilers/revision.h"

namespace llmops::reconcilers {

namespace {

using nlohmann::json;
using namespace api;

constexpr std::size_t kSamplesKept = 10;

std::string seconds_text(Seconds value) {
  char text[32];
  std::snprintf(text, sizeof text, "%gs", value.count());
  return text;
}

TimePoint plus(TimePoint time, Seconds delta) {
  return time + std::chrono::duration_cast<std::chrono::system_clock::duration>(delta);
}

bool known_metric(const std::string& name) {
  return name == kErrorRate || name == kTtftP95 || name == kItlP95 || name == kTokensPerSecond;
}

// One reconcile's reasoning, step by step; members are the decision being built.
class RolloutMachine {
 public:
  RolloutMachine(const ReconcileInput& input, DeploymentSpec spec, RolloutStatus status)
      : in_(input),
        spec_(std::move(spec)),
        before_(std::move(status)),
        st_(before_),
        now_(input.now) {}

  ReconcileDecision run() {
    resolve_desired();
    if (desired_ != 0) {
      if (!st_.stable_revision) {
        deploy_first();
      } else {
        route();
      }
    }
    std::vector<int64_t> keep;
    for (const auto& id : {st_.stable_revision, st_.canary_revision, st_.aborted_revision})
      if (id) keep.push_back(*id);
    prune_revisions(st_, spec_.revision_history_limit,
                    {keep.size() > 0 ? keep[0] : 0, keep.size() > 1 ? keep[1] : 0,
                     keep.size() > 2 ? keep[2] : 0, desired_});
    ReconcileDecision decision;
    plan_pods(decision);
    finish_status();
    decision.status = st_;
    decision.status_json = to_json(st_);
    decision.status_changed = decision.status_json != to_json(before_);
    decision.service = service_manifest(in_.deployment);
    decision.events = std::move(events_);
    if (wake_) decision.requeue_after = std::max(Seconds(0), Seconds(*wake_ - now_));
    return decision;
  }

 private:
  void event(const std::string& type, const std::string& reason, const std::string& message) {
    events_.push_back({type, reason, message});
  }
  void wake_at(TimePoint time) {
    if (!wake_ || time < *wake_) wake_ = time;
  }
  void degraded(const std::string& reason, const std::string& message) {
    degraded_reason_ = reason;
    degraded_message_ = message;
  }
  std::string rev(int64_t revision) const { return "revision " + std::to_string(revision); }
  int ready(int64_t revision) const { return ready_count(in_.pods, revision); }
  int steps() const { return static_cast<int>(spec_.steps.size()); }

  void resolve_desired() {
    if (spec_.rollback_to) {
      if (st_.find_revision(spec_.rollback_to->revision)) {
        desired_ = spec_.rollback_to->revision;
        via_rollback_to_ = true;
      } else {
        degraded(kReasonRollbackTargetNotFound,
                 "spec.rollbackTo names " + rev(spec_.rollback_to->revision) +
                     ", which is not in status.revisions; nothing changes until it is fixed");
      }
      return;
    }
    const std::string hash = revision_hash(spec_.model, spec_.runtime);
    if (const RevisionRecord* record = find_revision_by_hash(st_, hash)) {
      desired_ = record->revision;
      return;
    }
    desired_ = add_revision(st_, hash, spec_.model, spec_.runtime, now_);
    event(kEventNormal, kEventRevisionCreated,
          rev(desired_) + ": model " + spec_.model.value("uri", "") + ", image " +
              spec_.runtime.value("image", ""));
  }

  void deploy_first() {
    st_.stable_revision = desired_;
    st_.find_revision(desired_)->promoted_at = now_;
    st_.traffic = {{desired_, 100}};
    st_.current_step = steps();
    st_.last_progress_at = now_;
    event(kEventNormal, kEventDeployed, rev(desired_) + " is the stable revision");
  }

  // Moves status.traffic; revisions losing their share keep their pods until scaleDownAt.
  void set_traffic(std::vector<TrafficShare> traffic) {
    for (const auto& share : st_.traffic) {
      const bool kept = std::any_of(traffic.begin(), traffic.end(), [&](const TrafficShare& s) {
        return s.revision == share.revision && s.weight > 0;
      });
      if (share.weight > 0 && !kept) {
        st_.scale_down_at = plus(now_, in_.options.scale_down_delay);
      }
    }
    st_.traffic = std::move(traffic);
  }

  // The canary leaves: 100% to stable now, its pods later.
  void drop_canary(bool keep_analysis) {
    set_traffic({{*st_.stable_revision, 100}});
    st_.canary_revision.reset();
    st_.canary_weight = 0;
    st_.current_step = steps();
    st_.step_started_at.reset();
    if (!keep_analysis) st_.analysis.reset();
  }

  void start_canary(int64_t revision, const std::string& why) {
    const RevisionRecord* record = st_.find_revision(revision);
    const bool fast = via_rollback_to_ || (record && record->promoted_at);
    set_traffic({{*st_.stable_revision, 100}});
    st_.canary_revision = revision;
    st_.canary_weight = 0;
    st_.current_step = fast ? steps() : 0;
    st_.step_started_at = now_;
    st_.last_progress_at = now_;
    st_.analysis.reset();
    if (fast) {
      event(kEventNormal, kEventRollbackStarted,
            rev(revision) +
                (via_rollback_to_ ? " named by spec.rollbackTo" : " was stable before") +
                ": skipping the steps, scaling it to " + std::to_string(spec_.replicas) +
                " pods before it takes the traffic");
    } else {
      event(kEventNormal, kEventCanaryStarted,
            rev(revision) + " starts its " + std::to_string(steps()) + " steps" + why);
    }
  }

  void abort(const std::string& reason, const std::string& message) {
    const int64_t canary = *st_.canary_revision;
    drop_canary(true);
    st_.aborted_revision = canary;
    degraded(reason, message);
    event(kEventWarning, reason,
          message + "; 100% of traffic back to " + rev(*st_.stable_revision));
  }

  void route() {
    const int64_t stable = *st_.stable_revision;
    if (desired_ == stable) {
      if (st_.canary_revision) {
        event(kEventNormal, kEventCanaryCancelled,
              rev(*st_.canary_revision) + " cancelled: the desired revision is the stable " +
                  rev(stable));
        drop_canary(false);
      }
      st_.aborted_revision.reset();
      return;
    }
    if (st_.aborted_revision == desired_ && !st_.canary_revision) {
      const Condition* condition = before_.find_condition(kConditionDegraded);
      const std::string reason =
          condition && condition->status == kConditionTrue ? condition->reason : kReasonRolledBack;
      const bool abort_named = spec_.abort && spec_.abort->revision == desired_;
      if (reason == kReasonAborted && !abort_named) {
        st_.aborted_revision.reset();
        start_canary(desired_, " again (spec.rollout.abort removed)");
      } else {
        const std::string message =
            condition && condition->status == kConditionTrue && !condition->message.empty()
                ? condition->message
                : rev(desired_) + " was rolled back";
        degraded(abort_named ? kReasonAborted : reason,
                 abort_named && reason != kReasonAborted
                     ? "spec.rollout.abort names " + rev(desired_) + "; remove it to retry"
                     : message);
        return;
      }
    } else if (st_.canary_revision != desired_) {
      if (st_.canary_revision) {
        event(kEventNormal, kEventCanarySuperseded,
              rev(*st_.canary_revision) + " superseded by " + rev(desired_));
        drop_canary(false);
      }
      st_.aborted_revision.reset();
      start_canary(desired_, "");
    }
    run_steps();
  }

  void advance() {
    ++st_.current_step;
    st_.step_started_at = now_;
    st_.last_progress_at = now_;
  }

  // The canary lacks the ready pods its step needs: roll back once the deadline passes.
  void wait_for_pods(int need) {
    const int64_t canary = *st_.canary_revision;
    const TimePoint since = st_.last_progress_at.value_or(now_);
    const TimePoint deadline = plus(since, spec_.progress_deadline);
    if (now_ >= deadline) {
      abort(kReasonProgressDeadlineExceeded, rev(canary) + " had " + std::to_string(ready(canary)) +
                                                 " of " + std::to_string(need) +
                                                 " ready pods after progressDeadlineSeconds " +
                                                 seconds_text(spec_.progress_deadline));
      return;
    }
    wake_at(deadline);
  }

  bool approved(int index) const {
    return spec_.promote && spec_.promote->revision == *st_.canary_revision &&
           spec_.promote->step && index <= *spec_.promote->step;
  }

  void run_steps() {
    const int64_t canary = *st_.canary_revision;
    if (spec_.abort && spec_.abort->revision == canary) {
      abort(kReasonAborted, "spec.rollout.abort names " + rev(canary) + "; remove it to retry");
      return;
    }
    if (spec_.promote && spec_.promote->revision == canary && !spec_.promote->step &&
        st_.current_step < steps()) {
      event(kEventNormal, kEventPromotedFully,
            "spec.rollout.promote approves every remaining step of " + rev(canary));
      st_.current_step = steps();
      st_.step_started_at = now_;
      st_.last_progress_at = now_;
    }
    if (spec_.paused) {
      pause_reason_ = kReasonRolloutPaused;
      pause_message_ = "spec.rollout.paused holds " + rev(canary) + " at step " +
                       std::to_string(st_.current_step);
      return;
    }
    if (const Condition* progressing = before_.find_condition(kConditionProgressing);
        progressing && progressing->reason == kReasonRolloutPaused) {
      st_.last_progress_at = now_;  // the deadline does not count while paused
    }
    for (int guard = 0; guard <= steps() + 1; ++guard) {
      const int index = st_.current_step;
      if (index >= steps()) {
        complete();
        return;
      }
      const RolloutStep& step = spec_.steps[static_cast<std::size_t>(index)];
      switch (step.kind) {
        case RolloutStep::Kind::kSetWeight: {
          const int need = canary_pods_for(step.weight, spec_.replicas);
          if (ready(canary) < need) {
            wait_for_pods(need);
            return;
          }
          st_.canary_weight = step.weight;
          set_traffic({{*st_.stable_revision, 100 - step.weight}, {canary, step.weight}});
          event(kEventNormal, kEventWeightSet,
                rev(canary) + " gets " + std::to_string(step.weight) + "% of the traffic (" +
                    std::to_string(ready(canary)) + " ready pods; step " + std::to_string(index) +
                    ")");
          advance();
          break;
        }
        case RolloutStep::Kind::kPause: {
          if (approved(index)) {
            event(kEventNormal, kEventStepPromoted,
                  "spec.rollout.promote approves the pause at step " + std::to_string(index));
            advance();
            break;
          }
          if (!step.duration) {
            pause_reason_ = kReasonPausedAtStep;
            pause_message_ =
                "step " + std::to_string(index) +
                " waits for spec.rollout.promote {revision: " + std::to_string(canary) + "}";
            return;
          }
          const TimePoint end = plus(st_.step_started_at.value_or(now_), *step.duration);
          if (now_ < end) {
            wake_at(end);
            return;
          }
          advance();
          break;
        }
        case RolloutStep::Kind::kAnalysis: {
          if (approved(index)) {
            event(kEventNormal, kEventStepPromoted,
                  "spec.rollout.promote approves the analysis at step " + std::to_string(index));
            advance();
            break;
          }
          const AnalysisOutcome outcome = run_analysis(index);
          if (outcome != AnalysisOutcome::kPassed) return;
          advance();
          break;
        }
      }
    }
  }

  enum class AnalysisOutcome { kWaiting, kPassed, kFailed };

  AnalysisOutcome run_analysis(int index) {
    const int64_t canary = *st_.canary_revision;
    const AnalysisConfig& config = spec_.analysis;
    if (!st_.analysis || st_.analysis->step != index || st_.analysis->revision != canary) {
      st_.analysis = AnalysisStatus{};
      st_.analysis->step = index;
      st_.analysis->revision = canary;
      st_.analysis->started_at = now_;
      event(kEventNormal, kEventAnalysisStarted,
            "step " + std::to_string(index) + ": " + std::to_string(config.count) +
                " samples every " + seconds_text(config.interval) + " of " + rev(canary));
      for (const auto& rule : config.metrics) {
        if (!known_metric(rule.name)) {
          event(kEventWarning, kEventUnknownMetric,
                "spec.rollout.analysis metric " + rule.name +
                    " is not measured (error-rate, ttft-p95-seconds, itl-p95-seconds, "
                    "tokens-per-second): it never has data");
        }
      }
    }
    AnalysisStatus& analysis = *st_.analysis;
    const TimePoint last =
        analysis.samples.empty() ? analysis.started_at : analysis.samples.back().time;
    TimePoint due = plus(std::max(last, analysis.started_at), config.interval);
    if (ready(canary) == 0) {
      wait_for_pods(1);
      return st_.canary_revision ? AnalysisOutcome::kWaiting : AnalysisOutcome::kFailed;
    }
    if (in_.measurement && in_.measurement->time >= due) {
      const SampleJudgement judgement = judge_sample(*in_.measurement, config);
      AnalysisSample sample;
      sample.time = in_.measurement->time;
      sample.verdict = judgement.verdict;
      for (const auto& metric : judgement.metrics)
        if (metric.value) sample.metrics[metric.name] = *metric.value;
      analysis.samples.push_back(std::move(sample));
      if (analysis.samples.size() > kSamplesKept) analysis.samples.erase(analysis.samples.begin());
      analysis.metrics = judgement.metrics;
      switch (judgement.verdict) {
        case Verdict::kPass:
          ++analysis.passes;
          break;
        case Verdict::kFail:
          ++analysis.failures;
          break;
        case Verdict::kInconclusive:
          ++analysis.inconclusive;
          break;
      }
      event(judgement.verdict == Verdict::kPass ? kEventNormal : kEventWarning,
            std::string(kEventAnalysisSamplePrefix) + verdict_name(judgement.verdict),
            "step " + std::to_string(index) + " of " + rev(canary) + ": " + judgement.summary +
                " (sample " + std::to_string(analysis.passes + analysis.failures) + "/" +
                std::to_string(config.count) + ", failures " + std::to_string(analysis.failures) +
                " with " + std::to_string(config.failure_limit) + " tolerated)");
      if (analysis.failures > config.failure_limit) {
        abort(kReasonAnalysisFailed, "analysis at step " + std::to_string(index) + " of " +
                                         rev(canary) + " failed: " + judgement.summary);
        return AnalysisOutcome::kFailed;
      }
      // count conclusive samples make the step; inconclusive ones hold it instead.
      if (analysis.passes + analysis.failures >= config.count) {
        event(kEventNormal, kEventAnalysisPassed,
              "step " + std::to_string(index) + " of " + rev(canary) +
                  " passed: " + std::to_string(analysis.passes) + " of " +
                  std::to_string(config.count) + " samples passed");
        return AnalysisOutcome::kPassed;
      }
      due = plus(in_.measurement->time, config.interval);
    }
    if (!analysis.samples.empty() && analysis.samples.back().verdict == Verdict::kInconclusive) {
      pause_reason_ = kReasonAnalysisInconclusive;
      pause_message_ = "the last sample of step " + std::to_string(index) +
                       " had no data (noData: Inconclusive): holding " + rev(canary) +
                       " while sampling goes on; promote to skip, abort to roll back";
    }
    wake_at(due);
    return AnalysisOutcome::kWaiting;
  }

  void complete() {
    const int64_t canary = *st_.canary_revision;
    if (ready(canary) < spec_.replicas) {
      wait_for_pods(spec_.replicas);
      return;
    }
    const int64_t old_stable = *st_.stable_revision;
    st_.find_revision(canary)->promoted_at = now_;
    st_.stable_revision = canary;
    set_traffic({{canary, 100}});
    st_.canary_revision.reset();
    st_.canary_weight = 0;
    st_.current_step = steps();
    st_.step_started_at.reset();
    event(kEventNormal, kEventPromoted,
          rev(canary) + " is the stable revision with 100% of the traffic; " + rev(old_stable) +
              " scales down after " + seconds_text(in_.options.scale_down_delay));
  }

  int canary_target() const {
    if (st_.current_step >= steps()) return spec_.replicas;
    int weight = st_.canary_weight;
    const RolloutStep& step = spec_.steps[static_cast<std::size_t>(st_.current_step)];
    if (!spec_.paused && step.kind == RolloutStep::Kind::kSetWeight)
      weight = std::max(weight, step.weight);
    return canary_pods_for(weight, spec_.replicas);
  }

  void plan_pods(ReconcileDecision& decision) {
    std::map<int64_t, int> targets;
    if (st_.stable_revision) targets[*st_.stable_revision] = spec_.replicas;
    if (st_.canary_revision) targets[*st_.canary_revision] = canary_target();
    const ReplicaPlan plan = plan_replicas(spec_.name, targets, in_.pods);
    for (const auto& [revision, index] : plan.create) {
      const RevisionRecord* record = st_.find_revision(revision);
      if (!record) continue;
      const std::string track = revision == st_.stable_revision ? "stable" : "canary";
      decision.create.push_back(
          pod_manifest(in_.deployment, *record, track, index, in_.options.pod));
    }
    decision.remove = plan.remove;
    // Pods of revisions out of the picture: only once the traffic the last written status
    // gave them is gone (so never in the reconcile that moved it) and scaleDownAt has come.
    const std::set<std::string> removed(plan.remove.begin(), plan.remove.end());
    const bool delay_over = !st_.scale_down_at || now_ >= *st_.scale_down_at;
    for (const auto& pod : in_.pods) {
      if (targets.count(pod.revision) || pod.deleting || removed.count(pod.name)) continue;
      if (before_.weight_of(pod.revision) == 0 && delay_over) decision.remove.push_back(pod.name);
    }
    if (st_.scale_down_at) {
      if (delay_over) {
        st_.scale_down_at.reset();
      } else {
        wake_at(*st_.scale_down_at);
      }
    }
    for (const auto& pod : in_.pods) {
      if (!is_live(pod)) continue;
      if (pod.revision == st_.stable_revision && pod.track != "stable") {
        decision.relabel.push_back({pod.name, "stable"});
      } else if (pod.revision == st_.canary_revision && pod.track != "canary") {
        decision.relabel.push_back({pod.name, "canary"});
      }
    }
  }

  void finish_status() {
    const int64_t generation = spec_.generation;
    st_.observed_generation = generation;
    st_.selector = std::string(kDeploymentLabel) + "=" + deployment_label_value(spec_.name);
    st_.replicas = 0;
    st_.ready_replicas = 0;
    st_.updated_replicas = 0;
    const int64_t updated =
        desired_ != 0 ? desired_ : st_.canary_revision.value_or(st_.stable_revision.value_or(0));
    for (const auto& pod : in_.pods) {
      if (!is_live(pod)) continue;
      ++st_.replicas;
      if (pod.ready) ++st_.ready_replicas;
      if (pod.revision == updated) ++st_.updated_replicas;
    }
    const int stable_ready = st_.stable_revision ? ready(*st_.stable_revision) : 0;
    const int stable_live = st_.stable_revision ? live_count(in_.pods, *st_.stable_revision) : 0;
    const bool available = st_.stable_revision && stable_ready >= spec_.replicas;
    const std::string ready_message =
        std::to_string(stable_ready) + "/" + std::to_string(spec_.replicas) +
        " pods of the stable " +
        (st_.stable_revision ? rev(*st_.stable_revision) : std::string("revision (none yet)")) +
        " ready";
    auto& conditions = st_.conditions;
    set_condition(conditions, kConditionAvailable, available ? kConditionTrue : kConditionFalse,
                  available ? kReasonMinimumReplicasAvailable : kReasonReplicasNotReady,
                  ready_message, generation, now_);
    if (!degraded_reason_.empty()) {
      st_.phase = kPhaseDegraded;
      set_condition(conditions, kConditionProgressing, kConditionFalse, degraded_reason_,
                    degraded_message_, generation, now_);
      set_condition(conditions, kConditionDegraded, kConditionTrue, degraded_reason_,
                    degraded_message_, generation, now_);
      return;
    }
    set_condition(conditions, kConditionDegraded, kConditionFalse, kReasonAsExpected, "",
                  generation, now_);
    if (st_.canary_revision) {
      if (!pause_reason_.empty()) {
        st_.phase = kPhasePaused;
        set_condition(conditions, kConditionProgressing, kConditionUnknown, pause_reason_,
                      pause_message_, generation, now_);
      } else {
        st_.phase = kPhaseProgressing;
        if (!report_failing_pods(*st_.canary_revision)) {
          set_condition(conditions, kConditionProgressing, kConditionTrue, kReasonRolloutInProgress,
                        rev(*st_.canary_revision) + " at step " + std::to_string(st_.current_step) +
                            "/" + std::to_string(steps()) + " with " +
                            std::to_string(st_.canary_weight) + "% of the traffic",
                        generation, now_);
        }
      }
    } else if (!available || stable_live != spec_.replicas) {
      st_.phase = kPhaseProgressing;
      if (!st_.stable_revision || !report_failing_pods(*st_.stable_revision)) {
        set_condition(conditions, kConditionProgressing, kConditionTrue, kReasonScaling,
                      ready_message, generation, now_);
      }
    } else {
      st_.phase = kPhaseHealthy;
      set_condition(conditions, kConditionProgressing, kConditionFalse, kReasonRolloutCompleted,
                    rev(*st_.stable_revision) + " serves 100% of the traffic", generation, now_);
    }
  }

  // Pods of `revision` that do not run, and why, in the Progressing condition (reason
  // PodsFailing) and in an event when the reason is new. False when none fails.
  bool report_failing_pods(int64_t revision) {
    std::vector<const ObservedPod*> failing;
    for (const auto& pod : in_.pods) {
      if (pod.revision == revision && is_live(pod) && !pod.ready && !pod.failure.empty())
        failing.push_back(&pod);
    }
    if (failing.empty()) return false;
    std::string message =
        rev(revision) + ": pod " + failing.front()->name + ": " + failing.front()->failure;
    if (failing.size() > 1)
      message += " (" + std::to_string(failing.size() - 1) + " more pods failing)";
    const Condition* before = before_.find_condition(kConditionProgressing);
    if (!before || before->reason != kReasonPodsFailing || before->message != message)
      event(kEventWarning, kReasonPodsFailing, message);
    set_condition(st_.conditions, kConditionProgressing, kConditionTrue, kReasonPodsFailing,
                  message, spec_.generation, now_);
    return true;
  }

  const ReconcileInput& in_;
  DeploymentSpec spec_;
  RolloutStatus before_;
  RolloutStatus st_;
  TimePoint now_;
  int64_t desired_ = 0;
  bool via_rollback_to_ = false;
  std::vector<RolloutEvent> events_;
  std::optional<TimePoint> wake_;
  std::string degraded_reason_, degraded_message_;
  std::string pause_reason_, pause_message_;
};

}  // namespace

int canary_pods_for(int weight, int replicas) {
  if (replicas <= 0) return 0;
  const int pods = static_cast<int>(std::ceil(weight * replicas / 100.0));
  return std::clamp(pods, 1, replicas);
}

ReconcileDecision reconcile_deployment(const ReconcileInput& input) {
  DeploymentSpec spec = parse_deployment_spec(input.deployment);
  RolloutStatus status = parse_rollout_status(input.deployment.value("status", json::object()));
  return RolloutMachine(input, std::move(spec), std::move(status)).run();
}

ReconcileDecision reconcile_deployment(const ReconcileInput& input, const DeploymentSpec& spec,
                                       const RolloutStatus& status) {
  return RolloutMachine(input, spec, status).run();
}

ReconcileDecision invalid_spec_decision(const ReconcileInput& input, const std::string& message) {
  RolloutStatus before;
  // The object itself may be anything (a JSON string, an array): no status, no generation.
  const bool is_object = input.deployment.is_object();
  try {
    const json status = is_object ? input.deployment.value("status", json::object()) : json();
    if (status.is_object()) before = parse_rollout_status(status);
  } catch (const std::invalid_argument&) {
    // An unreadable status too: start from an empty one.
  }
  int64_t generation = 0;
  if (auto metadata = is_object ? input.deployment.find("metadata") : input.deployment.end();
      metadata != input.deployment.end() && metadata->is_object()) {
    if (auto value = metadata->find("generation");
        value != metadata->end() && value->is_number_integer())
      generation = value->get<int64_t>();
  }
  ReconcileDecision decision;
  decision.status = before;
  RolloutStatus& st = decision.status;
  st.observed_generation = generation;
  st.phase = kPhaseDegraded;
  set_condition(st.conditions, kConditionProgressing, kConditionFalse, kReasonInvalidSpec, message,
                generation, input.now);
  set_condition(st.conditions, kConditionDegraded, kConditionTrue, kReasonInvalidSpec, message,
                generation, input.now);
  decision.status_json = to_json(st);
  decision.status_changed = decision.status_json != to_json(before);
  return decision;
}

std::optional<AnalysisSchedule> analysis_schedule(const json& deployment, TimePoint now) {
  const DeploymentSpec spec = parse_deployment_spec(deployment);  // first: its error wins
  return analysis_schedule(spec, parse_rollout_status(deployment.value("status", json::object())),
                           now);
}

std::optional<AnalysisSchedule> analysis_schedule(const DeploymentSpec& spec,
                                                  const RolloutStatus& status, TimePoint now) {
  if (!status.canary_revision || spec.paused) return std::nullopt;
  const int64_t canary = *status.canary_revision;
  const int index = status.current_step;
  if (index < 0 || index >= static_cast<int>(spec.steps.size())) return std::nullopt;
  if (spec.steps[static_cast<std::size_t>(index)].kind != RolloutStep::Kind::kAnalysis)
    return std::nullopt;
  if (spec.abort && spec.abort->revision == canary) return std::nullopt;
  if (spec.promote && spec.promote->revision == canary &&
      (!spec.promote->step || index <= *spec.promote->step)) {
    return std::nullopt;
  }
  const auto interval =
      std::chrono::duration_cast<std::chrono::system_clock::duration>(spec.analysis.interval);
  if (!status.analysis || status.analysis->step != index || status.analysis->revision != canary)
    return AnalysisSchedule{canary, now + interval};
  const AnalysisStatus& analysis = *status.analysis;
  const TimePoint last = analysis.samples.empty()
                             ? analysis.started_at
                             : std::max(analysis.samples.back().time, analysis.started_at);
  return AnalysisSchedule{canary, last + interval};
}

}  // namespace llmops::reconcilers
