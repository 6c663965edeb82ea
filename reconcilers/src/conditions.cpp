#include "llmops/reconcilers/conditions.h"

namespace llmops::reconcilers {

void set_condition(std::vector<Condition>& conditions, const std::string& type,
                   const std::string& status, const std::string& reason, const std::string& message,
                   int64_t generation, TimePoint now) {
  for (auto& condition : conditions) {
    if (condition.type != type) continue;
    if (condition.status != status) {
      condition.status = status;
      condition.last_transition_time = format_timestamp(now);
    }
    condition.reason = reason;
    condition.message = message;
    condition.observed_generation = generation;
    return;
  }
  conditions.push_back({type, status, reason, message, generation, format_timestamp(now)});
}

}  // namespace llmops::reconcilers
