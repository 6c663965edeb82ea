// RFC 3339 timestamps as Kubernetes writes them (metav1.Time, and MicroTime with
// microseconds), and their parsing.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace llmops::devcluster {

std::string formatTimestamp(std::chrono::system_clock::time_point when);  // 2006-01-02T15:04:05Z
std::optional<std::chrono::system_clock::time_point> parseTimestamp(const std::string& text);

}  // namespace llmops::devcluster
