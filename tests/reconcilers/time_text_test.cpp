#include "llmops/reconcilers/time_text.h"

#include <gtest/gtest.h>

namespace llmops::reconcilers {
namespace {

using namespace std::chrono;

TEST(TimeText, TimestampsRoundTripWithMilliseconds) {
  const TimePoint time = TimePoint(seconds(1136214245)) + milliseconds(123);
  EXPECT_EQ(format_timestamp(time), "2006-01-02T15:04:05.123Z");
  EXPECT_EQ(parse_timestamp("2006-01-02T15:04:05.123Z"), time);
  EXPECT_EQ(parse_timestamp("2006-01-02T15:04:05Z"), TimePoint(seconds(1136214245)));
  EXPECT_EQ(parse_timestamp("2006-01-02T17:04:05+02:00"), TimePoint(seconds(1136214245)));
  for (const char* bad :
       {"yesterday", "2006-01-02T15:04:05", "2006-01-02T15:04:05.Z", "2006-01-02T15:04:05Zjunk",
        // found by the fuzzer: a year past the clock's range overflowed it (UB)
        "4052-01-02T15:04:05Z", "2006-13-02T15:04:05Z", "2006-01-00T15:04:05Z",
        "2006-01-02T24:04:05Z"}) {
    EXPECT_THROW(parse_timestamp(bad), std::invalid_argument) << bad;
  }
}

TEST(TimeText, Durations) {
  EXPECT_DOUBLE_EQ(parse_duration("15s").count(), 15);
  EXPECT_DOUBLE_EQ(parse_duration("2m").count(), 120);
  EXPECT_DOUBLE_EQ(parse_duration("1h30m").count(), 5400);
  EXPECT_DOUBLE_EQ(parse_duration("1.5s").count(), 1.5);
  EXPECT_DOUBLE_EQ(parse_duration("250ms").count(), 0.25);
  for (const char* bad : {"", "15", "s", "1x", "1.2.3s", "-1s"}) {
    EXPECT_THROW(parse_duration(bad), std::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace llmops::reconcilers
