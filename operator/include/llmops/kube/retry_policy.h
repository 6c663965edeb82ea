// When a failed API request is worth sending again, and after how long. Requests that
// certainly did not reach the server (connect failed, 429) are retried for every verb;
// other network errors and 5xx only for idempotent verbs (GET, HEAD, PUT, DELETE), since a
// POST or PATCH may have been applied before the answer was lost.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace llmops::kube {

struct RetryOptions {
  int max_attempts = 5;                            // first try included
  std::chrono::milliseconds initial_backoff{200};  // doubled per failed attempt
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::seconds max_retry_after{30};  // longer Retry-After: give up instead
};

struct RequestFailure {
  bool connect_failed = false;  // the request was not sent
  bool network = false;         // no HTTP answer (reset, timeout)
  int status = 0;               // HTTP status when there was an answer
  std::optional<std::chrono::seconds> retry_after;
};

bool is_idempotent(const std::string& method);

// The delay before attempt number `failed_attempts + 1`, or nullopt to give up.
// Deterministic: callers add their own jitter.
std::optional<std::chrono::milliseconds> retry_delay(const RetryOptions& options,
                                                     const std::string& method, int failed_attempts,
                                                     const RequestFailure& failure);

}  // namespace llmops::kube
