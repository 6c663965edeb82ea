#include "time_format.h"

#include <cstdio>
#include <ctime>

namespace llmops::devcluster {

std::string formatTimestamp(std::chrono::system_clock::time_point when) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

std::optional<std::chrono::system_clock::time_point> parseTimestamp(const std::string& text) {
  std::tm utc{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6) {
    return std::nullopt;
  }
  utc.tm_year = year - 1900;
  utc.tm_mon = month - 1;
  utc.tm_mday = day;
  utc.tm_hour = hour;
  utc.tm_min = minute;
  utc.tm_sec = second;
  std::time_t seconds = timegm(&utc);
  auto when = std::chrono::system_clock::from_time_t(seconds);
  // Offsets other than Z: +hh:mm after optional fractional seconds.
  size_t pos = static_cast<size_t>(consumed);
  if (pos < text.size() && text[pos] == '.') {
    while (pos + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[pos + 1]))) ++pos;
    ++pos;
  }
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int offsetHours = 0, offsetMinutes = 0;
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &offsetHours, &offsetMinutes) == 2) {
      auto offset = std::chrono::hours(offsetHours) + std::chrono::minutes(offsetMinutes);
      when += text[pos] == '+' ? -offset : offset;
    }
  }
  return when;
}

}  // namespace llmops::devcluster
