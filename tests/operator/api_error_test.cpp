#include "llmops/kube/api_error.h"

#include <gtest/gtest.h>

#include <typeinfo>

#include "fake_transport.h"

namespace llmops::kube {
namespace {

using testing::status_body;

template <class Expected>
void expect_thrown(int code, const std::string& body, ApiReason reason) {
  try {
    throw_api_error(code, body);
    ADD_FAILURE() << "nothing thrown";
  } catch (const Expected& error) {
    EXPECT_EQ(error.code(), code);
    EXPECT_EQ(error.reason(), reason) << reason_name(error.reason());
  } catch (const std::exception& error) {
    ADD_FAILURE() << "wrong type for " << code << ": " << typeid(error).name() << " "
                  << error.what();
  }
}

TEST(ApiError, StatusReasonsMapToTypes) {
  expect_thrown<NotFoundError>(404, status_body(404, "NotFound", "x not found"),
                               ApiReason::kNotFound);
  expect_thrown<ConflictError>(409, status_body(409, "Conflict", "modified"), ApiReason::kConflict);
  expect_thrown<AlreadyExistsError>(409, status_body(409, "AlreadyExists", "exists"),
                                    ApiReason::kAlreadyExists);
  expect_thrown<InvalidError>(422, status_body(422, "Invalid", "bad"), ApiReason::kInvalid);
  expect_thrown<ExpiredError>(410, status_body(410, "Expired", "too old"), ApiReason::kExpired);
  expect_thrown<ExpiredError>(410, status_body(410, "Gone", "gone"), ApiReason::kExpired);
  expect_thrown<ForbiddenError>(403, status_body(403, "Forbidden", "no"), ApiReason::kForbidden);
  expect_thrown<UnauthorizedError>(401, status_body(401, "Unauthorized", "who"),
                                   ApiReason::kUnauthorized);
  expect_thrown<TooManyRequestsError>(429, status_body(429, "TooManyRequests", "slow"),
                                      ApiReason::kTooManyRequests);
  expect_thrown<ServerError>(500, status_body(500, "InternalError", "boom"),
                             ApiReason::kServerError);
}

TEST(ApiError, CodeDecidesWhenTheBodyIsNotAStatus) {
  expect_thrown<NotFoundError>(404, "<html>nope</html>", ApiReason::kNotFound);
  expect_thrown<ConflictError>(409, "", ApiReason::kConflict);
  expect_thrown<ExpiredError>(410, "", ApiReason::kExpired);
  expect_thrown<ServerError>(503, "upstream down", ApiReason::kServerError);
  expect_thrown<ApiError>(415, "", ApiReason::kUnsupportedMediaType);
}

TEST(ApiError, KeepsMessageStatusAndRetryAfter) {
  try {
    throw_api_error(429, status_body(429, "TooManyRequests", "slow down"), "7");
  } catch (const TooManyRequestsError& error) {
    EXPECT_NE(std::string(error.what()).find("slow down"), std::string::npos);
    EXPECT_EQ(error.status().value("reason", ""), "TooManyRequests");
    ASSERT_TRUE(error.retry_after.has_value());
    EXPECT_EQ(*error.retry_after, std::chrono::seconds(7));
  }
}

TEST(ApiError, WatchErrorEventStatus) {
  auto status =
      nlohmann::json::parse(status_body(410, "Expired", "too old resource version: 1 (9)"));
  EXPECT_THROW(throw_status(status), ExpiredError);
}

}  // namespace
}  // namespace llmops::kube
