// Replica planning: from the Pods a deployment owns and how many each revision should
// have, which Pods to create (by index) and which to delete. Failed pods are replaced,
// extra ones removed (not-ready and highest index first), terminating ones ignored.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "llmops/reconcilers/time_text.h"

namespace llmops::reconcilers {

// A Pod as the reconcilers see it (read from the informer cache by the operator).
struct ObservedPod {
  std::string name;
  int64_t revision = 0;   // llmops.dev/revision; 0 when missing or not a number
  std::string track;      // llmops.dev/track
  bool ready = false;     // condition Ready=True
  std::string phase;      // Pending, Running, Succeeded, Failed, Unknown
  bool deleting = false;  // metadata.deletionTimestamp set
  TimePoint created;
  int restarts = 0;     // restartCount summed over containers
  std::string failure;  // why it does not run (pod_failure), empty when nothing failed
};

// Why a pod's container does not run, from its status: a waiting reason that means failure
// (CrashLoopBackOff, ErrImagePull, ...) and/or the last non-zero exit with its reason and
// message (the runtime's last log lines under FallbackToLogsOnError). Empty otherwise.
std::string pod_failure(const nlohmann::json& pod);

// A pod that counts: not terminating and not finished.
bool is_live(const ObservedPod& pod);
// The index in "<deployment>-r<revision>-<index>", or none for other names.
std::optional<int> pod_index(const std::string& deployment, const ObservedPod& pod);

struct ReplicaPlan {
  std::vector<std::pair<int64_t, int>> create;  // (revision, index)
  std::vector<std::string> remove;              // pod names
};

// `targets`: revision → pod count. Pods of revisions not in targets are left alone (the
// caller decides when those go, after their traffic has drained).
ReplicaPlan plan_replicas(const std::string& deployment, const std::map<int64_t, int>& targets,
                          const std::vector<ObservedPod>& pods);

// Pods of a revision that are live and ready.
int ready_count(const std::vector<ObservedPod>& pods, int64_t revision);
int live_count(const std::vector<ObservedPod>& pods, int64_t revision);

}  // namespace llmops::reconcilers
