#include "llmops/kube/clock.h"

#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <string>

namespace llmops::kube {

std::shared_ptr<Clock> real_clock() {
  static auto clock = std::make_shared<RealClock>();
  return clock;
}

namespace {

std::tm utc(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return tm;
}

}  // namespace

std::string format_micro_time(std::chrono::system_clock::time_point time) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch());
  // Floor to whole seconds, also for times before the epoch.
  auto seconds = std::chrono::floor<std::chrono::seconds>(micros);
  std::tm tm = utc(std::chrono::system_clock::time_point(seconds));
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>((micros - seconds).count()));
  return buffer;
}

std::string format_time(std::chrono::system_clock::time_point time) {
  std::tm tm = utc(time);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::chrono::system_clock::time_point parse_time(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    throw std::invalid_argument("not a timestamp: \"" + text + "\"");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  auto time = std::chrono::system_clock::from_time_t(timegm(&tm));
  size_t pos = static_cast<size_t>(consumed);
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    long long fraction = 0;
    int digits = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (digits < 9) {
        fraction = fraction * 10 + (text[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    while (digits < 9) {
      fraction *= 10;
      ++digits;
    }
    time += std::chrono::duration_cast<std::chrono::system_clock::duration>(
        std::chrono::nanoseconds(fraction));
  }
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int hours = 0;
    int minutes = 0;
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &hours, &minutes) != 2) {
      throw std::invalid_argument("bad zone offset in \"" + text + "\"");
    }
    auto offset = std::chrono::hours(hours) + std::chrono::minutes(minutes);
    time += text[pos] == '+' ? -offset : offset;
  } else if (pos >= text.size() || (text[pos] != 'Z' && text[pos] != 'z')) {
    throw std::invalid_argument("no zone in timestamp \"" + text + "\"");
  }
  return time;
}

}  // namespace llmops::kube
