// The programs' one logging set-up: spdlog's default logger writes key=value lines
// ("time=... level=info event=..."), UTC timestamps, on stderr, flushed at every line.
#pragma once

#include <string>

namespace llmops {

// `level` is spdlog's name (trace, debug, info, warn, err, critical, off); `name` is the
// logger's. Call once, first thing in main.
void setup_logging(const std::string& level, const std::string& name = "llmops");

}  // namespace llmops
