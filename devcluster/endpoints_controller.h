// The endpoints and endpointslice controllers: for every Service with a selector, an
// Endpoints object (ready pods in addresses, the others in notReadyAddresses) and a
// discovery.k8s.io/v1 EndpointSlice, with target ports resolved by name per pod.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "local_client.h"

namespace llmops::devcluster {

// Pure: the Endpoints (subsets) and EndpointSlice for `service` over the namespace's pods.
nlohmann::json endpointsFor(const nlohmann::json& service, const std::vector<nlohmann::json>& pods);
nlohmann::json endpointSliceFor(const nlohmann::json& service,
                                const std::vector<nlohmann::json>& pods);

class EndpointsController {
 public:
  explicit EndpointsController(LocalClient& client) : client_(client) {}
  void step();

 private:
  void write(const std::string& collectionPath, const std::string& name, nlohmann::json desired);
  LocalClient& client_;
};

}  // namespace llmops::devcluster
