// libFuzzer target for the router's static route file (anyone who can write the ConfigMap
// or file): parse_static_config either returns a table that satisfies the routing
// invariants or throws ConfigError naming the problem; nothing else may escape.
#include <cstddef>
#include <cstdint>
#include <string>

#include "router/route_sources.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto table = llmops::router::parse_static_config(text);
    for (const auto& deployment : table.deployments) {
      if (deployment.model.empty()) __builtin_trap();
      for (const auto& revision : deployment.revisions) {
        if (revision.revision < 1 || revision.weight < 0) __builtin_trap();
        for (const auto& endpoint : revision.endpoints) {
          if (endpoint.port == 0 || endpoint.host.empty()) __builtin_trap();
        }
      }
      if (auto stable = deployment.stable_revision; stable && !deployment.revision(*stable)) {
        __builtin_trap();
      }
    }
  } catch (const llmops::router::ConfigError&) {
  }
  return 0;
}
