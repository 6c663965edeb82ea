#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/generate.h"

namespace llmops::engine {
namespace {

struct StopCase {
  std::vector<std::string> stops;
  std::vector<std::string> chunks;
  std::string emitted;  // everything returned by push() and flush()
  bool matched;
};

class StopStrings : public ::testing::TestWithParam<StopCase> {};

TEST_P(StopStrings, EmitOnlyWhatPrecedesTheStop) {
  const StopCase& c = GetParam();
  StopStringMatcher m(c.stops);
  std::string out;
  for (const auto& chunk : c.chunks) out += m.push(chunk);
  out += m.flush();
  EXPECT_EQ(out, c.emitted);
  EXPECT_EQ(m.matched(), c.matched);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, StopStrings,
    ::testing::Values(StopCase{{}, {"a", "b"}, "ab", false},
                      StopCase{{"\n\n"}, {"one", "\n", "\n", "two"}, "one", true},
                      StopCase{{"END"}, {"the E", "N", "x"}, "the ENx", false},
                      StopCase{{"END"}, {"the E", "ND more"}, "the ", true},
                      StopCase{{"xyz", "y"}, {"axy"}, "ax", true},
                      StopCase{{""}, {"keeps", " going"}, "keeps going", false},
                      StopCase{{"aab"}, {"a", "a", "a", "b"}, "a", true}));

TEST(StopStrings, HoldsBackOnlyAPossibleStart) {
  StopStringMatcher m({"STOP"});
  EXPECT_EQ(m.push("hello S"), "hello ");
  EXPECT_EQ(m.push("T"), "");
  EXPECT_EQ(m.push("x"), "STx");
}

}  // namespace
}  // namespace llmops::engine
