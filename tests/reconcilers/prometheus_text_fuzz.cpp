// libFuzzer target for what the operator reads from pods and routers it does not control:
// their /metrics text (parse_prometheus_text) and the LLMDeployment objects users write
// (parse_deployment_spec, parse_rollout_status, and the whole reconcile). Each may only
// throw std::invalid_argument; the first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "llmops/reconcilers/prometheus_text.h"
#include "llmops/reconcilers/rollout.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  using namespace llmops::reconcilers;
  try {
    if (data[0] % 2 == 0) {
      for (const auto& sample : parse_prometheus_text(text)) {
        if (sample.name.empty()) __builtin_trap();
      }
      return 0;
    }
    const auto object = nlohmann::json::parse(text, nullptr, false);
    if (object.is_discarded()) return 0;
    ReconcileInput input{
        object, {}, std::nullopt, TimePoint(std::chrono::seconds(1'800'000'000)), {}};
    try {
      const auto decision = reconcile_deployment(input);
      (void)decision.status_json.dump();
    } catch (const std::invalid_argument& error) {
      const auto invalid = invalid_spec_decision(input, error.what());
      if (invalid.status_json.value("phase", "") != "Degraded") __builtin_trap();
    }
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
