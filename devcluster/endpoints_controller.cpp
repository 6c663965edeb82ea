#include "endpoints_controller.h"

#include <map>

#include "llmops/api/status_parse.h"
#include "selectors.h"
#include "status.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

constexpr const char* kManagedBy = "llmops-devcluster";
constexpr const char* kSliceSuffix = "-devcluster";

// The pods a Service selects that have an IP and are not terminal.
std::vector<Json> selectedPods(const Json& service, const std::vector<Json>& pods) {
  std::vector<Json> result;
  const Json selector = service["spec"].value("selector", Json::object());
  if (selector.empty()) return result;
  for (const auto& pod : pods) {
    const Json labels = pod["metadata"].value("labels", Json::object());
    bool matches = true;
    for (const auto& [key, value] : selector.items()) {
      if (!labels.contains(key) || labels[key] != value) matches = false;
    }
    const Json status = pod.value("status", Json::object());
    const std::string phase = status.value("phase", "");
    if (!matches || status.value("podIP", "").empty() || phase == "Succeeded" ||
        phase == "Failed") {
      continue;
    }
    result.push_back(pod);
  }
  return result;
}

// The service's ports with targetPort resolved for one pod; a named port the pod lacks
// leaves that port out.
Json portsFor(const Json& service, const Json& pod) {
  Json ports = Json::array();
  for (const auto& port : service["spec"].value("ports", Json::array())) {
    Json target = port.value("targetPort", port.value("port", Json(0)));
    int number = 0;
    if (target.is_number_integer()) {
      number = target.get<int>();
    } else if (target.is_string()) {
      for (const auto& container : pod["spec"].value("containers", Json::array())) {
        for (const auto& declared : container.value("ports", Json::array())) {
          if (declared.value("name", "") == target.get<std::string>()) {
            number = declared.value("containerPort", 0);
          }
        }
      }
    }
    if (number == 0) continue;
    Json entry = {{"port", number}, {"protocol", port.value("protocol", "TCP")}};
    if (port.contains("name")) entry["name"] = port["name"];
    ports.push_back(entry);
  }
  return ports;
}

Json targetRef(const Json& pod) {
  return {{"kind", "Pod"},
          {"namespace", pod["metadata"].value("namespace", "")},
          {"name", pod["metadata"].value("name", "")},
          {"uid", pod["metadata"].value("uid", "")}};
}

Json serviceOwner(const Json& service) {
  return Json::array({{{"apiVersion", "v1"},
                       {"kind", "Service"},
                       {"name", service["metadata"].value("name", "")},
                       {"uid", service["metadata"].value("uid", "")},
                       {"controller", true},
                       {"blockOwnerDeletion", true}}});
}

}  // namespace

Json endpointsFor(const Json& service, const std::vector<Json>& pods) {
  // Pods with the same resolved ports share a subset, as the endpoints controller does.
  std::map<std::string, Json> subsets;
  for (const auto& pod : selectedPods(service, pods)) {
    Json ports = portsFor(service, pod);
    if (ports.empty()) continue;
    Json& subset = subsets[ports.dump()];
    if (subset.is_null()) subset = {{"ports", ports}};
    Json address = {{"ip", pod["status"].value("podIP", "")},
                    {"nodeName", pod["spec"].value("nodeName", "")},
                    {"targetRef", targetRef(pod)}};
    subset[api::pod_ready(pod) && !pod["metadata"].contains("deletionTimestamp")
               ? "addresses"
               : "notReadyAddresses"]
        .push_back(address);
  }
  Json list = Json::array();
  for (auto& [key, subset] : subsets) list.push_back(subset);
  Json labels = service["metadata"].value("labels", Json::object());
  return {{"apiVersion", "v1"},
          {"kind", "Endpoints"},
          {"metadata",
           {{"name", service["metadata"].value("name", "")},
            {"namespace", service["metadata"].value("namespace", "")},
            {"labels", labels},
            {"annotations", {{"endpoints.llmops.dev/managed-by", kManagedBy}}}}},
          {"subsets", list}};
}

Json endpointSliceFor(const Json& service, const std::vector<Json>& pods) {
  const std::string name = service["metadata"].value("name", "");
  Json endpoints = Json::array();
  Json ports = Json::array();
  for (const auto& pod : selectedPods(service, pods)) {
    Json podPorts = portsFor(service, pod);
    if (podPorts.empty()) continue;
    if (ports.empty()) ports = podPorts;
    const bool terminating = pod["metadata"].contains("deletionTimestamp");
    const bool ready = api::pod_ready(pod) && !terminating;
    endpoints.push_back(
        {{"addresses", Json::array({pod["status"].value("podIP", "")})},
         {"conditions",
          {{"ready", ready}, {"serving", api::pod_ready(pod)}, {"terminating", terminating}}},
         {"nodeName", pod["spec"].value("nodeName", "")},
         {"targetRef", targetRef(pod)}});
  }
  Json labels = service["metadata"].value("labels", Json::object());
  labels["kubernetes.io/service-name"] = name;
  labels["endpointslice.kubernetes.io/managed-by"] = kManagedBy;
  return {{"apiVersion", "discovery.k8s.io/v1"},
          {"kind", "EndpointSlice"},
          {"metadata",
           {{"name", name + kSliceSuffix},
            {"namespace", service["metadata"].value("namespace", "")},
            {"labels", labels},
            {"ownerReferences", serviceOwner(service)}}},
          {"addressType", "IPv4"},
          {"endpoints", endpoints},
          {"ports", ports}};
}

void EndpointsController::write(const std::string& collectionPath, const std::string& name,
                                Json desired) {
  auto current = client_.get(collectionPath + "/" + name);
  if (!current) {
    client_.create(collectionPath, desired);
    return;
  }
  bool same = true;
  for (const char* field : {"subsets", "endpoints", "ports", "addressType"}) {
    if (desired.contains(field) && current->value(field, Json()) != desired[field]) same = false;
  }
  for (const char* field : {"labels", "ownerReferences"}) {
    if (desired["metadata"].contains(field) &&
        (*current)["metadata"].value(field, Json()) != desired["metadata"][field]) {
      same = false;
    }
  }
  if (same) return;
  desired["metadata"]["resourceVersion"] = (*current)["metadata"].value("resourceVersion", "");
  client_.update(collectionPath + "/" + name, desired);
}

void EndpointsController::step() {
  Json services = client_.list("/api/v1/services");
  Json podItems = client_.list("/api/v1/pods");
  std::map<std::string, std::vector<Json>> podsByNamespace;
  for (auto& pod : podItems) podsByNamespace[pod["metadata"].value("namespace", "")].push_back(pod);
  std::map<std::string, bool> served;  // ns/name of services with a selector
  for (const auto& service : services) {
    if (service["spec"].value("selector", Json::object()).empty()) continue;
    if (service["metadata"].contains("deletionTimestamp")) continue;
    const std::string ns = service["metadata"].value("namespace", "");
    const std::string name = service["metadata"].value("name", "");
    served[ns + "/" + name] = true;
    const auto& pods = podsByNamespace[ns];
    try {
      write("/api/v1/namespaces/" + ns + "/endpoints", name, endpointsFor(service, pods));
      write("/apis/discovery.k8s.io/v1/namespaces/" + ns + "/endpointslices", name + kSliceSuffix,
            endpointSliceFor(service, pods));
    } catch (const ApiError& error) {
      if (error.code() != 409 && error.code() != 404) throw;  // raced: the next step fixes it
    }
  }
  // Endpoints outlive their Service only until here (slices go with their owner).
  for (const auto& endpoints : client_.list("/api/v1/endpoints")) {
    const auto& metadata = endpoints["metadata"];
    if (metadata.value("annotations", Json::object())
            .value("endpoints.llmops.dev/managed-by", "") != kManagedBy) {
      continue;
    }
    const std::string ns = metadata.value("namespace", ""), name = metadata.value("name", "");
    if (served.count(ns + "/" + name)) continue;
    client_.remove("/api/v1/namespaces/" + ns + "/endpoints/" + name, Json::object());
  }
}

}  // namespace llmops::devcluster
