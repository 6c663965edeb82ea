#include "pod_network.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>

namespace llmops::devcluster {

std::string formatIPv4(uint32_t address) {
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 255) + "." +
         std::to_string((address >> 8) & 255) + "." + std::to_string(address & 255);
}

uint32_t parseIPv4(const std::string& text) {
  uint32_t address = 0;
  size_t start = 0;
  for (int part = 0; part < 4; ++part) {
    size_t end = part == 3 ? text.size() : text.find('.', start);
    if (end == std::string::npos || end == start || end - start > 3) {
      throw std::invalid_argument("\"" + text + "\" is not an IPv4 address");
    }
    int value = 0;
    for (size_t i = start; i < end; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i])))
        throw std::invalid_argument("\"" + text + "\" is not an IPv4 address");
      value = value * 10 + (text[i] - '0');
    }
    if (value > 255) throw std::invalid_argument("\"" + text + "\" is not an IPv4 address");
    address = (address << 8) | static_cast<uint32_t>(value);
    start = end + 1;
  }
  return address;
}

std::string PodCidr::toString() const {
  return formatIPv4(network) + "/" + std::to_string(prefixLength);
}

bool PodCidr::contains(uint32_t address) const {
  uint32_t mask = prefixLength == 0 ? 0 : ~uint32_t{0} << (32 - prefixLength);
  return (address & mask) == network;
}

PodCidr parsePodCidr(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos) {
    throw std::invalid_argument("pod CIDR \"" + text + "\" needs a prefix length (/24)");
  }
  PodCidr cidr;
  uint32_t address = parseIPv4(text.substr(0, slash));
  try {
    size_t used = 0;
    cidr.prefixLength = std::stoi(text.substr(slash + 1), &used);
    if (used != text.size() - slash - 1) throw std::invalid_argument("trailing characters");
  } catch (const std::logic_error&) {
    throw std::invalid_argument("pod CIDR \"" + text + "\" has an invalid prefix length");
  }
  if (cidr.prefixLength < 8 || cidr.prefixLength > 30) {
    throw std::invalid_argument("pod CIDR \"" + text + "\": prefix length must be 8..30");
  }
  if ((address >> 24) != 127) {
    throw std::invalid_argument("pod CIDR \"" + text + "\" must lie inside 127.0.0.0/8");
  }
  uint32_t mask = ~uint32_t{0} << (32 - cidr.prefixLength);
  cidr.network = address & mask;
  return cidr;
}

PodCidr choosePodCidr(const std::string& dataDir, const std::string& flagValue) {
  if (!flagValue.empty()) return parsePodCidr(flagValue);
  const std::string path = dataDir + "/pod-cidr";
  std::ifstream in(path);
  std::string recorded;
  if (in >> recorded) return parsePodCidr(recorded);
  // Random second and third octets: parallel instances (tests) practically never meet.
  std::random_device device;
  std::mt19937 random(device() ^ static_cast<uint32_t>(getpid()));
  std::uniform_int_distribution<uint32_t> second(1, 254), third(0, 255);
  PodCidr cidr;
  cidr.network = (127u << 24) | (second(random) << 16) | (third(random) << 8);
  cidr.prefixLength = 24;
  std::ofstream out(path + ".tmp", std::ios::trunc);
  out << cidr.toString() << "\n";
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
  std::filesystem::rename(path + ".tmp", path);
  return cidr;
}

uint32_t allocatePodIp(const PodCidr& cidr, const std::set<uint32_t>& used) {
  uint32_t size = uint32_t{1} << (32 - cidr.prefixLength);
  for (uint32_t offset = 2; offset + 1 < size; ++offset) {
    uint32_t address = cidr.network + offset;
    if (!used.count(address)) return address;
  }
  throw std::runtime_error("pod CIDR " + cidr.toString() + " has no free address");
}

}  // namespace llmops::devcluster
