#include "llmops/common/host_port.h"

#include <algorithm>

namespace llmops {

HostPort parse_host_port(std::string_view text, const std::string& what, EmptyHost empty_host) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  HostPort result;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      throw UsageError(what + ": " + quoted + " is not [IPv6]:port");
    }
    result.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || (colon == 0 && empty_host == EmptyHost::kReject)) {
      throw UsageError(what + ": " + quoted + " is not host:port");
    }
    result.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  if (result.host.empty()) {
    if (empty_host == EmptyHost::kReject) throw UsageError(what + ": " + quoted + " has no host");
    result.host = "0.0.0.0";
  }
  const bool digits =
      !port.empty() && port.size() <= 5 &&
      std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  const int number = digits ? std::stoi(std::string(port)) : -1;
  if (number < 0 || number > 65535) {
    throw UsageError(what + ": " + quoted + " has no valid port (0-65535)");
  }
  result.port = static_cast<uint16_t>(number);
  return result;
}

}  // namespace llmops
