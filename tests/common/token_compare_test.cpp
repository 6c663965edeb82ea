#include "llmops/common/token_compare.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace llmops {
namespace {

struct Case {
  std::string a, b;
  bool equal;
};

TEST(ConstantTimeEquals, ComparesEveryByte) {
  for (const Case& c : std::vector<Case>{{"", "", true},
                                         {"secret", "secret", true},
                                         {"secret", "secreT", false},
                                         {"secret", "Secret", false},
                                         {"secret", "secrets", false},
                                         {"", "x", false},
                                         {std::string("a\0b", 3), std::string("a\0c", 3), false}}) {
    EXPECT_EQ(constant_time_equals(c.a, c.b), c.equal) << c.a << " vs " << c.b;
  }
}

TEST(BearerTokenMatches, WantsExactlyBearerAndTheToken) {
  for (const Case& c : std::vector<Case>{{"Bearer t0k", "t0k", true},
                                         {"Bearer t0k ", "t0k", false},
                                         {"bearer t0k", "t0k", false},
                                         {"t0k", "t0k", false},
                                         {"", "t0k", false},
                                         {"Bearer t0x", "t0k", false}}) {
    EXPECT_EQ(bearer_token_matches(c.a, c.b), c.equal) << c.a;
  }
}

}  // namespace
}  // namespace llmops
