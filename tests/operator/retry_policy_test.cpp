#include "llmops/kube/retry_policy.h"

#include <gtest/gtest.h>

namespace llmops::kube {
namespace {

using namespace std::chrono_literals;

struct Case {
  const char* name;
  std::string method;
  int failed_attempts;
  RequestFailure failure;
  std::optional<std::chrono::milliseconds> expected;
};

TEST(RetryPolicy, Table) {
  RetryOptions options;  // 200 ms doubling to 5 s, 5 attempts, Retry-After up to 30 s
  RequestFailure connect{true, true, 0, {}};
  RequestFailure reset{false, true, 0, {}};
  RequestFailure unavailable{false, false, 503, {}};
  RequestFailure internal{false, false, 500, {}};
  RequestFailure not_implemented{false, false, 501, {}};
  RequestFailure throttled{false, false, 429, {}};
  RequestFailure throttled_3s{false, false, 429, 3s};
  RequestFailure throttled_long{false, false, 429, 120s};
  RequestFailure conflict{false, false, 409, {}};
  RequestFailure not_found{false, false, 404, {}};
  const std::vector<Case> cases = {
      {"connect failure, GET", "GET", 1, connect, 200ms},
      {"connect failure, POST (not sent)", "POST", 1, connect, 200ms},
      {"reset, GET", "GET", 1, reset, 200ms},
      {"reset, PUT", "PUT", 2, reset, 400ms},
      {"reset, DELETE", "DELETE", 3, reset, 800ms},
      {"reset, POST may have been applied", "POST", 1, reset, std::nullopt},
      {"reset, PATCH may have been applied", "PATCH", 1, reset, std::nullopt},
      {"503 GET", "GET", 1, unavailable, 200ms},
      {"500 GET grows", "GET", 4, internal, 1600ms},
      {"500 POST", "POST", 1, internal, std::nullopt},
      {"501 never", "GET", 1, not_implemented, std::nullopt},
      {"429 any verb", "POST", 1, throttled, 200ms},
      {"429 honours Retry-After", "PATCH", 1, throttled_3s, 3000ms},
      {"429 Retry-After too long", "GET", 1, throttled_long, std::nullopt},
      {"409 is not retried here", "PUT", 1, conflict, std::nullopt},
      {"404 is an answer", "GET", 1, not_found, std::nullopt},
      {"attempts exhausted", "GET", 5, unavailable, std::nullopt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(retry_delay(options, c.method, c.failed_attempts, c.failure), c.expected) << c.name;
  }
}

TEST(RetryPolicy, BackoffIsCapped) {
  RetryOptions options;
  options.max_attempts = 100;
  RequestFailure reset{false, true, 0, {}};
  EXPECT_EQ(retry_delay(options, "GET", 50, reset), 5000ms);
}

}  // namespace
}  // namespace llmops::kube
