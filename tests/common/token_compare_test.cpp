#include "llmops/common/token_compare.h"

#include <gtest/gtest.h>

#include <string>

namespace llmops {
namespace {

TEST(ConstantTimeEquals, ComparesEveryByte) {
  EXPECT_TRUE(constant_time_equals("", ""));
  EXPECT_TRUE(constant_time_equals("secret", "secret"));
  EXPECT_FALSE(constant_time_equals("secret", "secreT"));
  EXPECT_FALSE(constant_time_equals("secret", "Secret"));
  EXPECT_FALSE(constant_time_equals("secret", "secrets"));
  EXPECT_FALSE(constant_time_equals("", "x"));
  EXPECT_FALSE(constant_time_equals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(BearerTokenMatches, WantsExactlyBearerAndTheToken) {
  EXPECT_TRUE(bearer_token_matches("Bearer t0k", "t0k"));
  EXPECT_FALSE(bearer_token_matches("Bearer t0k ", "t0k"));
  EXPECT_FALSE(bearer_token_matches("bearer t0k", "t0k"));
  EXPECT_FALSE(bearer_token_matches("t0k", "t0k"));
  EXPECT_FALSE(bearer_token_matches("", "t0k"));
  EXPECT_FALSE(bearer_token_matches("Bearer t0x", "t0k"));
}

}  // namespace
}  // namespace llmops
