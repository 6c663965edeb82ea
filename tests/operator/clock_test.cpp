#include "llmops/kube/clock.h"

#include <gtest/gtest.h>

namespace llmops::kube {
namespace {

using namespace std::chrono;

TEST(Time, MicroTimeFormatAndParse) {
  auto time =
      system_clock::time_point(seconds(1136214245)) + microseconds(123);  // 2006-01-02T15:04:05
  EXPECT_EQ(format_micro_time(time), "2006-01-02T15:04:05.000123Z");
  EXPECT_EQ(format_time(time), "2006-01-02T15:04:05Z");
  EXPECT_EQ(parse_time("2006-01-02T15:04:05.000123Z"), time);
  EXPECT_EQ(parse_time("2006-01-02T15:04:05Z"), system_clock::time_point(seconds(1136214245)));
  EXPECT_EQ(parse_time("2006-01-02T17:04:05+02:00"), system_clock::time_point(seconds(1136214245)));
  EXPECT_THROW(parse_time("yesterday"), std::invalid_argument);
  EXPECT_THROW(parse_time("2006-01-02T15:04:05"), std::invalid_argument);
}

}  // namespace
}  // namespace llmops::kube
