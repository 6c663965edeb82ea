// The pod network: a CIDR inside 127.0.0.0/8 (every 127.x.y.z address answers on Linux
// loopback without setup) from which each Pod gets its own IP, so pods listen on the
// same port side by side. Each data directory keeps its own CIDR across restarts.
#pragma once

#include <cstdint>
#include <set>
#include <string>

namespace llmops::devcluster {

struct PodCidr {
  uint32_t network = 0;  // host byte order, host bits zero
  int prefixLength = 24;

  std::string toString() const;
  bool contains(uint32_t address) const;
};

std::string formatIPv4(uint32_t address);
// Throws std::invalid_argument naming what is wrong.
uint32_t parseIPv4(const std::string& text);
// "127.42.7.0/24"; throws std::invalid_argument unless inside 127.0.0.0/8 with room for
// at least two pods (prefix 8..30).
PodCidr parsePodCidr(const std::string& text);

// The flag's CIDR when given; otherwise the one recorded in `dataDir/pod-cidr`, or a new
// random /24 (never 127.0.0.0/24, where the API server listens) recorded there.
PodCidr choosePodCidr(const std::string& dataDir, const std::string& flagValue);

// The first free address of the CIDR (skipping the network address, .1 and broadcast),
// or throws std::runtime_error when the CIDR is full.
uint32_t allocatePodIp(const PodCidr& cidr, const std::set<uint32_t>& used);

}  // namespace llmops::devcluster
