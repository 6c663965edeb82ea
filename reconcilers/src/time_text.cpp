#include "llmops/reconcilers/time_text.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace llmops::reconcilers {

std::string format_timestamp(TimePoint time) {
  using namespace std::chrono;
  const auto millis = duration_cast<milliseconds>(time.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  long fraction = static_cast<long>(millis % 1000);
  if (fraction < 0) {
    fraction += 1000;
    seconds -= 1;
  }
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                fraction);
  return text;
}

TimePoint parse_timestamp(const std::string& text) {
  auto fail = [&]() -> TimePoint {
    throw std::invalid_argument("not an RFC 3339 timestamp: \"" + text + "\"");
  };
  std::tm parts{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &parts.tm_year, &parts.tm_mon,
                  &parts.tm_mday, &parts.tm_hour, &parts.tm_min, &parts.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    return fail();
  }
  if (parts.tm_mon < 1 || parts.tm_mon > 12 || parts.tm_mday < 1 || parts.tm_mday > 31 ||
      parts.tm_hour > 23 || parts.tm_min > 59 || parts.tm_sec > 60) {
    return fail();
  }
  parts.tm_year -= 1900;
  parts.tm_mon -= 1;
  std::size_t pos = 19;
  double fraction = 0;
  if (pos < text.size() && text[pos] == '.') {
    double scale = 0.1;
    ++pos;
    if (pos >= text.size() || !std::isdigit(static_cast<unsigned char>(text[pos]))) return fail();
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      fraction += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
  }
  long offset_seconds = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int hours = 0, minutes = 0;
    if (text.size() != pos + 6 ||
        std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &hours, &minutes) != 2)
      return fail();
    offset_seconds = (hours * 3600L + minutes * 60L) * (text[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return fail();
  }
  if (pos != text.size()) return fail();
  const std::time_t seconds = timegm(&parts) - offset_seconds;
  // The clock counts nanoseconds in 64 bits: years up to 2262.
  constexpr std::time_t kMaxSeconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::duration::max())
          .count() -
      1;
  if (seconds > kMaxSeconds || seconds < -kMaxSeconds) {
    throw std::invalid_argument("timestamp out of range (years 1678 to 2262): \"" + text + "\"");
  }
  return std::chrono::system_clock::from_time_t(seconds) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(Seconds(fraction));
}

Seconds parse_duration(const std::string& text) {
  auto fail = [&]() -> Seconds {
    throw std::invalid_argument("not a duration (like 15s, 2m, 1h30m, 250ms): \"" + text + "\"");
  };
  if (text.empty()) return fail();
  double total = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t start = pos;
    while (pos < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == '.'))
      ++pos;
    if (pos == start) return fail();
    double number = 0;
    try {
      std::size_t used = 0;
      number = std::stod(text.substr(start, pos - start), &used);
      if (used != pos - start) return fail();
    } catch (const std::logic_error&) {
      return fail();
    }
    if (text.compare(pos, 2, "ms") == 0) {
      total += number / 1000;
      pos += 2;
    } else if (pos < text.size() && text[pos] == 's') {
      total += number;
      ++pos;
    } else if (pos < text.size() && text[pos] == 'm') {
      total += number * 60;
      ++pos;
    } else if (pos < text.size() && text[pos] == 'h') {
      total += number * 3600;
      ++pos;
    } else {
      return fail();
    }
  }
  return Seconds(total);
}

}  // namespace llmops::reconcilers
