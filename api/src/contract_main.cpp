// llmops-api-contract: the LLMDeployment status vocabulary of llmops/api/llmdeployment.h as
// one JSON object, so that checks written in other languages (the Argo CD health test)
// read the header's values instead of searching C++ sources for them.
#include <nlohmann/json.hpp>

#include <iostream>

#include "llmops/api/llmdeployment.h"

int main() {
  using namespace llmops::api;
  const auto list = [](const auto& values) {
    nlohmann::json out = nlohmann::json::array();
    for (const char* value : values) out.push_back(value);
    return out;
  };
  const nlohmann::json contract = {{"phases", list(kPhases)},
                                   {"conditionTypes", list(kConditionTypes)},
                                   {"conditionReasons", list(kConditionReasons)},
                                   {"degradedReasons", list(kDegradedReasons)},
                                   {"pausedReasons", list(kPausedReasons)}};
  std::cout << contract.dump(2) << "\n";
  return 0;
}
