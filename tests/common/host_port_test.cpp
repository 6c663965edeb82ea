#include "llmops/common/host_port.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace llmops {
namespace {

TEST(HostPort, Forms) {
  EXPECT_EQ(parse_host_port("127.0.0.1:80", "f"), (HostPort{"127.0.0.1", 80}));
  EXPECT_EQ(parse_host_port("[::1]:0", "f"), (HostPort{"::1", 0}));
  EXPECT_EQ(parse_host_port("[::]:65535", "f"), (HostPort{"::", 65535}));
  EXPECT_EQ(parse_host_port("svc.ns.svc:8080", "f"), (HostPort{"svc.ns.svc", 8080}));
}

TEST(HostPort, EmptyHostIsAnErrorUnlessItMeansEveryInterface) {
  EXPECT_THROW(parse_host_port(":8080", "f"), UsageError);
  EXPECT_EQ(parse_host_port(":8080", "f", EmptyHost::kAnyAddress), (HostPort{"0.0.0.0", 8080}));
  EXPECT_EQ(parse_host_port("[]:1", "f", EmptyHost::kAnyAddress), (HostPort{"0.0.0.0", 1}));
}

TEST(HostPort, MistakesNameTheFlagAndTheText) {
  struct Case {
    std::string text;
    std::string message;
  };
  for (const auto& c : std::vector<Case>{
           {"8080", "--listen: \"8080\" is not host:port"},
           {"host:", "--listen: \"host:\" has no valid port (0-65535)"},
           {"host:12x", "--listen: \"host:12x\" has no valid port (0-65535)"},
           {"host:65536", "--listen: \"host:65536\" has no valid port (0-65535)"},
           {"host:123456", "--listen: \"host:123456\" has no valid port (0-65535)"},
           {"host:-1", "--listen: \"host:-1\" has no valid port (0-65535)"},
           {"[::1:80", "--listen: \"[::1:80\" is not [IPv6]:port"},
           {"[::1]80", "--listen: \"[::1]80\" is not [IPv6]:port"},
           {"[::1]", "--listen: \"[::1]\" is not [IPv6]:port"},
           {"", "--listen: \"\" is not host:port"},
       }) {
    try {
      parse_host_port(c.text, "--listen", EmptyHost::kAnyAddress);
      ADD_FAILURE() << "accepted " << c.text;
    } catch (const UsageError& error) {
      EXPECT_EQ(error.what(), c.message);
    }
  }
}

TEST(HostPort, UsageErrorIsAnInvalidArgument) {
  EXPECT_THROW(parse_host_port("x", "f"), std::invalid_argument);
}

}  // namespace
}  // namespace llmops
