#include "pod_network.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace llmops::devcluster {
namespace {

TEST(PodNetwork, ParsesCidrsInsideLoopback) {
  PodCidr cidr = parsePodCidr("127.42.7.9/24");
  EXPECT_EQ(cidr.toString(), "127.42.7.0/24");
  EXPECT_TRUE(cidr.contains(parseIPv4("127.42.7.200")));
  EXPECT_FALSE(cidr.contains(parseIPv4("127.42.8.1")));
  for (const char* bad : {"10.0.0.0/24", "127.0.0.0", "127.0.0.0/31", "127.0.0.0/4", "127.0.0/24",
                          "127.0.0.256/24", "127.1.0.0/2x"}) {
    EXPECT_THROW(parsePodCidr(bad), std::invalid_argument) << bad;
  }
}

TEST(PodNetwork, AllocatesFreeAddressesSkippingReservedOnes) {
  PodCidr cidr = parsePodCidr("127.9.9.0/30");  // .0 network, .1 reserved, .2, .3 broadcast
  EXPECT_EQ(formatIPv4(allocatePodIp(cidr, {})), "127.9.9.2");
  EXPECT_THROW(allocatePodIp(cidr, {parseIPv4("127.9.9.2")}), std::runtime_error);
  PodCidr wide = parsePodCidr("127.9.9.0/24");
  EXPECT_EQ(formatIPv4(allocatePodIp(wide, {parseIPv4("127.9.9.2"), parseIPv4("127.9.9.3")})),
            "127.9.9.4");
}

TEST(PodNetwork, DefaultCidrIsRecordedAndKept) {
  auto dir =
      std::filesystem::temp_directory_path() / ("pod-network-test." + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  PodCidr first = choosePodCidr(dir.string(), "");
  EXPECT_EQ(first.prefixLength, 24);
  EXPECT_EQ(first.network >> 24, 127u);
  EXPECT_NE((first.network >> 8) & 0xffff, 0u);  // never 127.0.0.0/24
  EXPECT_EQ(choosePodCidr(dir.string(), "").toString(), first.toString());
  EXPECT_EQ(choosePodCidr(dir.string(), "127.5.0.0/16").toString(), "127.5.0.0/16");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace llmops::devcluster
