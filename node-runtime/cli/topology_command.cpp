// `llmops-runtime topology`: what hwloc sees of this machine and this process, and the
// placement --threads/--numa would get, as one JSON object. Pins nothing.
#include <iostream>
#include <nlohmann/json.hpp>

#include "args.h"
#include "commands.h"

namespace llmops::cli {

int run_topology(const std::vector<std::string>& argv) {
  const Args args(argv, {"threads", "numa"}, {});
  const topology::RuntimePlacement placement = placement_for(args);
  const nlohmann::json out = {{"topology", topology::to_json(placement.topology->info())},
                              {"plan", topology::to_json(placement.plan)}};
  std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace llmops::cli
