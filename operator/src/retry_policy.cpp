#include "llmops/kube/retry_policy.h"

#include <algorithm>

namespace llmops::kube {

bool is_idempotent(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS";
}

std::optional<std::chrono::milliseconds> retry_delay(const RetryOptions& options,
                                                     const std::string& method, int failed_attempts,
                                                     const RequestFailure& failure) {
  if (failed_attempts >= options.max_attempts) return std::nullopt;
  bool retryable = false;
  if (failure.connect_failed) {
    retryable = true;
  } else if (failure.network) {
    retryable = is_idempotent(method);
  } else if (failure.status == 429) {
    retryable = true;  // the server refused before doing anything
  } else if (failure.status >= 500 && failure.status != 501) {
    retryable = is_idempotent(method);
  }
  if (!retryable) return std::nullopt;
  if (failure.retry_after) {
    if (*failure.retry_after > options.max_retry_after) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(*failure.retry_after);
  }
  auto delay = options.initial_backoff;
  for (int i = 1; i < failed_attempts && delay < options.max_backoff; ++i) delay *= 2;
  return std::min(delay, options.max_backoff);
}

}  // namespace llmops::kube
