// What the router serves: for each deployment (matched on the OpenAI "model" name), its
// revisions with their traffic weights and endpoints. Built by a RouteSource (static YAML
// file or the Kubernetes API) and swapped in whole; the router never edits one in place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llmops::router {

struct Endpoint {
  std::string host;  // IP address
  uint16_t port = 0;
  std::string pod;  // pod name in Kubernetes mode, "" in static mode
  bool ready = true;

  std::string address() const { return host + ":" + std::to_string(port); }
};

struct RevisionRoute {
  int revision = 0;
  int weight = 0;  // relative; 0 = no new requests (in-flight ones complete)
  std::vector<Endpoint> endpoints;
};

struct DeploymentRoute {
  std::string ns;     // namespace ("" in static mode); metrics label
  std::string name;   // metrics label
  std::string model;  // the OpenAI model name requests are matched on
  // Where a failed canary request is retried; unset = the revision with the most weight.
  std::optional<int> stable_revision;
  std::vector<RevisionRoute> revisions;  // ordered by revision number

  const RevisionRoute* revision(int number) const;
  // stable_revision, else the weightiest revision (lowest number on ties); nullopt if none.
  std::optional<int> effective_stable() const;
};

struct RoutingTable {
  std::vector<DeploymentRoute> deployments;  // ordered by model name, unique models

  const DeploymentRoute* find_model(const std::string& model) const;
};

// Validates and normalises a table: sorts revisions and deployments, rejects negative
// weights, duplicate revisions, empty model names; a model claimed twice keeps the first
// (the caller orders candidates by precedence) and reports the others in `warnings`.
RoutingTable normalize_table(std::vector<DeploymentRoute> deployments,
                             std::vector<std::string>* warnings = nullptr);

}  // namespace llmops::router
