// get, list, create, update, patch and delete of every served resource, with the
// subresources status and scale, following the apiserver's rules for resourceVersion,
// generation, preconditions, dryRun and Status errors (thrown as ApiError).
#pragma once

#include "api_request.h"
#include "garbage_collector.h"
#include "object_store.h"
#include "resource_registry.h"

namespace llmops::devcluster {

class ResourceHandlers {
 public:
  ResourceHandlers(ObjectStore& store, ResourceRegistry& registry, GarbageCollector& collector)
      : store_(store), registry_(registry), collector_(collector) {}

  ApiResponse handle(const ApiRequest& request);
  // Registers the resources of every stored CRD (at startup).
  void registerStoredCrds();
  // The object as a client of `type`'s version sees it.
  static nlohmann::json present(const ResourceType& type, nlohmann::json object);

 private:
  ApiResponse get(const ApiRequest& request);
  ApiResponse list(const ApiRequest& request);
  ApiResponse create(const ApiRequest& request);
  ApiResponse update(const ApiRequest& request);
  ApiResponse patch(const ApiRequest& request);
  ApiResponse remove(const ApiRequest& request);
  ApiResponse removeCollection(const ApiRequest& request);

  // Stores a changed object (or deletes it when its last finalizer went) and runs the
  // side effects of CRD writes. `old` is null on create.
  ApiResponse commitWrite(const ApiRequest& request, const nlohmann::json& old,
                          nlohmann::json object, int successCode);
  nlohmann::json current(const ApiRequest& request) const;
  nlohmann::json scaleOf(const ResourceType& type, const nlohmann::json& object) const;
  nlohmann::json withScale(const ResourceType& type, nlohmann::json object,
                           const nlohmann::json& scale) const;
  void afterCrdChange(const nlohmann::json& crd, bool removed);

  ObjectStore& store_;
  ResourceRegistry& registry_;
  GarbageCollector& collector_;
};

}  // namespace llmops::devcluster
