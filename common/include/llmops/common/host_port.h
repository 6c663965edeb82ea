// "HOST:PORT" and "[IPv6]:PORT" as the programs' address flags and the router's static
// endpoints write them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "llmops/common/usage_error.h"

namespace llmops {

struct HostPort {
  std::string host;
  uint16_t port = 0;  // 0 = any free port, when listening

  bool operator==(const HostPort&) const = default;
};

// What ":PORT" (no host) means: an error, or every interface (0.0.0.0), as Go's
// net.Listen reads it.
enum class EmptyHost { kReject, kAnyAddress };

// Splits `text`; port 0..65535. Throws UsageError naming `what` (the flag or field) and
// the text on a missing colon, an unclosed '[', or a port that is not a number in range.
HostPort parse_host_port(std::string_view text, const std::string& what,
                         EmptyHost empty_host = EmptyHost::kReject);

}  // namespace llmops
