#include "node_controller.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>

#include "status.h"
#include "time_format.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

std::string microTimeNow() {
  auto now = std::chrono::system_clock::now();
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  std::string text = formatTimestamp(now);  // ...Z
  char fraction[16];
  std::snprintf(fraction, sizeof fraction, ".%06lld", static_cast<long long>(micros));
  return text.substr(0, text.size() - 1) + fraction + "Z";
}

}  // namespace

MachineCapacity machineCapacity() {
  MachineCapacity machine;
  cpu_set_t set;
  CPU_ZERO(&set);
  int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
  if (cpus <= 0) cpus = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  machine.cpuMillis = int64_t{cpus} * 1000;
  long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
  machine.memoryBytes = pages > 0 && pageSize > 0 ? int64_t{pages} * pageSize : int64_t{1} << 30;
  return machine;
}

std::vector<MachineCapacity> splitCapacity(const MachineCapacity& machine, int nodes) {
  std::vector<MachineCapacity> result;
  if (nodes <= 0) return result;
  int64_t cpus = std::max<int64_t>(1, machine.cpuMillis / 1000);
  for (int i = 0; i < nodes; ++i) {
    MachineCapacity share;
    int64_t whole = cpus / nodes + (i < cpus % nodes ? 1 : 0);
    share.cpuMillis = std::max<int64_t>(1, whole) * 1000;
    share.memoryBytes = machine.memoryBytes / nodes;
    result.push_back(share);
  }
  return result;
}

std::string nodeName(int index) {
  return "devcluster-node-" + std::to_string(index + 1);
}

NodeController::NodeController(ApiClient& client, NodeControllerOptions options)
    : client_(client),
      options_(std::move(options)),
      capacities_(splitCapacity(machineCapacity(), options_.names.empty()
                                                       ? options_.nodes
                                                       : static_cast<int>(options_.names.size()))) {
  if (!options_.names.empty()) options_.nodes = static_cast<int>(options_.names.size());
}

std::vector<std::string> NodeController::nodeNames() const {
  if (!options_.names.empty()) return options_.names;
  std::vector<std::string> names;
  for (int i = 0; i < options_.nodes; ++i) names.push_back(nodeName(i));
  return names;
}

Json NodeController::nodeObject(int index) const {
  const std::string name = nodeNames()[static_cast<size_t>(index)];
  Json labels = {{"kubernetes.io/hostname", name}, {"kubernetes.io/os", "linux"}};
  labels.update(options_.labels);
  Json node = {{"apiVersion", "v1"},
               {"kind", "Node"},
               {"metadata", {{"name", name}, {"labels", labels}}},
               {"spec", Json::object()}};
  if (!options_.podCidr.empty()) {
    node["spec"] = {{"podCIDR", options_.podCidr}, {"podCIDRs", Json::array({options_.podCidr})}};
  }
  return node;
}

void NodeController::renewLease(const std::string& name, const Json& node) {
  const std::string path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/" + name;
  auto lease = client_.get(path);
  if (!lease) {
    // Owned by the Node, as the kubelet's: deleting the Node removes its Lease.
    Json owner = {{"apiVersion", "v1"},
                  {"kind", "Node"},
                  {"name", name},
                  {"uid", node["metadata"].value("uid", "")}};
    client_.create("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
                   {{"apiVersion", "coordination.k8s.io/v1"},
                    {"kind", "Lease"},
                    {"metadata",
                     {{"name", name},
                      {"namespace", "kube-node-lease"},
                      {"ownerReferences", Json::array({owner})}}},
                    {"spec",
                     {{"holderIdentity", name},
                      {"leaseDurationSeconds", options_.leaseDuration.count()},
                      {"renewTime", microTimeNow()}}}});
    return;
  }
  client_.mergePatch(path, {{"spec",
                             {{"holderIdentity", name},
                              {"leaseDurationSeconds", options_.leaseDuration.count()},
                              {"renewTime", microTimeNow()}}}});
}

void NodeController::refreshStatus(int index, const Json& node) {
  const auto& share = capacities_[static_cast<size_t>(index)];
  const std::string now = formatTimestamp(std::chrono::system_clock::now());
  std::string transition = now;
  if (node.contains("status") && node["status"].contains("conditions")) {
    for (const auto& condition : node["status"]["conditions"]) {
      if (condition.value("type", "") == "Ready" && condition.value("status", "") == "True") {
        transition = condition.value("lastTransitionTime", now);
      }
    }
  }
  Json resources = {{"cpu", std::to_string(share.cpuMillis / 1000)},
                    {"memory", std::to_string(share.memoryBytes / 1024) + "Ki"},
                    {"pods", "110"}};
  Json status = {
      {"capacity", resources},
      {"allocatable", resources},
      {"addresses",
       Json::array({{{"type", "InternalIP"}, {"address", "127.0.0.1"}},
                    {{"type", "Hostname"}, {"address", nodeNames()[static_cast<size_t>(index)]}}})},
      {"nodeInfo",
       {{"kubeletVersion", options_.kubeletVersion},
        {"containerRuntimeVersion", "process://llmops-devcluster"},
        {"operatingSystem", "linux"},
        {"architecture", "amd64"}}},
      {"conditions", Json::array({{{"type", "Ready"},
                                   {"status", "True"},
                                   {"reason", "KubeletReady"},
                                   {"message", "kubelet is posting ready status"},
                                   {"lastHeartbeatTime", now},
                                   {"lastTransitionTime", transition}}})}};
  if (options_.kubeletPort > 0) {
    status["daemonEndpoints"] = {{"kubeletEndpoint", {{"Port", options_.kubeletPort}}}};
  }
  client_.mergePatch("/api/v1/nodes/" + nodeNames()[static_cast<size_t>(index)] + "/status",
                     {{"status", status}});
}

void NodeController::step() {
  const auto now = std::chrono::steady_clock::now();
  for (int i = 0; i < options_.nodes; ++i) {
    const std::string name = nodeNames()[static_cast<size_t>(i)];
    auto node = client_.get("/api/v1/nodes/" + name);
    bool created = false;
    if (!node) {
      node = client_.create("/api/v1/nodes", nodeObject(i));
      created = true;
    }
    auto last = lastHeartbeat_.find(name);
    if (!created && last != lastHeartbeat_.end() &&
        now - last->second < options_.heartbeatInterval) {
      continue;
    }
    renewLease(name, *node);
    refreshStatus(i, *node);
    lastHeartbeat_[name] = now;
  }
}

}  // namespace llmops::devcluster
