// Time as the LLMDeployment status writes it, and durations as its spec writes them. Pure
// functions: the reconcilers take `now` as an argument and never read a clock.
#pragma once

#include <chrono>
#include <string>

namespace llmops::reconcilers {

using TimePoint = std::chrono::system_clock::time_point;
using Seconds = std::chrono::duration<double>;

// RFC 3339 in UTC with milliseconds: 2026-11-22T05:31:13.123Z. Milliseconds, because a
// `pause: {duration: 2s}` measured from a timestamp rounded to seconds would end early.
std::string format_timestamp(TimePoint time);
// RFC 3339 with optional fraction and 'Z' or ±hh:mm; throws std::invalid_argument
// naming the text.
TimePoint parse_timestamp(const std::string& text);

// Go-style durations as the CRD's pattern allows: "15s", "2m", "1h30m", "1.5s", "250ms".
// Throws std::invalid_argument naming the text.
Seconds parse_duration(const std::string& text);

}  // namespace llmops::reconcilers
