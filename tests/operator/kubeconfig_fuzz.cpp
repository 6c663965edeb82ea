// libFuzzer target for kubeconfig files (a user's file, or one a tool wrote): parse_kubeconfig
// may only throw ConfigError naming the field. Relative paths resolve under a directory
// that does not exist.
#include <cstddef>
#include <cstdint>
#include <string>

#include "llmops/kube/kubeconfig.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto config = llmops::kube::parse_kubeconfig(text, "/nonexistent/llmops-fuzz");
    if (config.server.empty()) __builtin_trap();
  } catch (const llmops::kube::ConfigError&) {
  }
  return 0;
}
