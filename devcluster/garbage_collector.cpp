#include "garbage_collector.h"

#include "object_lifecycle.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

const char* kForegroundFinalizer = "foregroundDeletion";

std::string nsOf(const Json& object) {
  return object["metadata"].value("namespace", "");
}
std::string nameOf(const Json& object) {
  return object["metadata"].value("name", "");
}

Json finalizersOf(const Json& object) {
  return object["metadata"].value("finalizers", Json::array());
}

bool isNamespace(const std::string& resource) {
  return resource == "/namespaces";
}

// A pod on a node deleted with a grace period: its kubelet stops the containers and then
// deletes it with grace 0, as with a real apiserver; the collector must not remove it.
bool awaitsKubelet(const std::string& resource, const Json& object) {
  if (resource != "/pods" || object["spec"].value("nodeName", "").empty()) return false;
  const auto& metadata = object["metadata"];
  const auto grace = metadata.find("deletionGracePeriodSeconds");
  return grace != metadata.end() && grace->is_number_integer() && grace->get<int64_t>() > 0;
}

}  // namespace

bool GarbageCollector::isNamespacedResource(const std::string& resource) const {
  auto slash = resource.find('/');
  auto type = registry_.findAnyVersion(resource.substr(0, slash), resource.substr(slash + 1));
  return type && type->namespaced;
}

std::vector<std::pair<std::string, Json>> GarbageCollector::dependentsOf(const Json& owner) const {
  const std::string uid = owner["metadata"].value("uid", "");
  if (uid.empty()) return {};
  return store_.dependentsOf(uid);
}

void GarbageCollector::removeNow(const std::string& resource, const Json& object) {
  store_.remove(resource, nsOf(object), nameOf(object));
  if (isNamespace(resource)) return;
  for (auto& [dependentResource, dependent] : dependentsOf(object)) {
    bool removed = false;
    requestDeletion(dependentResource, dependent, PropagationPolicy::Background, removed);
  }
}

Json GarbageCollector::requestDeletion(const std::string& resource, const Json& object,
                                       PropagationPolicy policy, bool& removed) {
  auto lock = store_.lock();
  removed = false;
  auto current = store_.get(resource, nsOf(object), nameOf(object));
  if (!current) {
    removed = true;
    return object;
  }
  Json updated = *current;
  auto& metadata = updated["metadata"];
  if (policy == PropagationPolicy::Orphan) {
    const std::string uid = metadata.value("uid", "");
    for (auto& [dependentResource, dependent] : dependentsOf(updated)) {
      Json references = Json::array();
      for (const auto& reference : dependent["metadata"]["ownerReferences"]) {
        if (reference.value("uid", "") != uid) references.push_back(reference);
      }
      if (references.empty()) {
        dependent["metadata"].erase("ownerReferences");
      } else {
        dependent["metadata"]["ownerReferences"] = references;
      }
      store_.put(dependentResource, dependent);
    }
  }
  bool terminatingNamespace = isNamespace(resource);
  bool foreground = policy == PropagationPolicy::Foreground && !dependentsOf(updated).empty();
  if (foreground) {
    Json finalizers = finalizersOf(updated);
    if (std::find(finalizers.begin(), finalizers.end(), kForegroundFinalizer) == finalizers.end()) {
      finalizers.push_back(kForegroundFinalizer);
      metadata["finalizers"] = finalizers;
    } else {
      foreground = false;  // already cascading: an ownerReference cycle must not recurse
    }
  }
  if (finalizersOf(updated).empty() && !terminatingNamespace) {
    removeNow(resource, updated);
    settle();
    removed = true;
    return updated;
  }
  bool changed = false;
  if (!metadata.contains("deletionTimestamp")) {
    metadata["deletionTimestamp"] = nowTimestamp();
    metadata["deletionGracePeriodSeconds"] = 0;
    changed = true;
  }
  if (terminatingNamespace && updated["status"].value("phase", "") != "Terminating") {
    updated["status"]["phase"] = "Terminating";
    changed = true;
  }
  if (changed || updated != *current) updated = store_.put(resource, updated);
  if (foreground) {
    for (auto& [dependentResource, dependent] : dependentsOf(updated)) {
      bool dependentRemoved = false;
      requestDeletion(dependentResource, dependent, PropagationPolicy::Foreground,
                      dependentRemoved);
    }
  }
  settle();
  auto after = store_.get(resource, nsOf(object), nameOf(object));
  removed = !after;
  return after ? *after : updated;
}

bool GarbageCollector::finalizeNamespaces(std::size_t batch) {
  auto lock = store_.lock();
  std::size_t deleted = 0;
  for (auto& [resource, space] : store_.listDeleting()) {
    if (!isNamespace(resource)) continue;
    // Objects already being deleted wait for their finalizers.
    for (auto& [contentResource, content] : store_.listNamespace(nameOf(space), batch, true)) {
      if (!isNamespacedResource(contentResource)) continue;
      bool removed = false;
      requestDeletion(contentResource, content, PropagationPolicy::Background, removed);
      if (++deleted >= batch) return true;
    }
  }
  settle();
  for (auto& [resource, space] : store_.listDeleting()) {
    if (isNamespace(resource)) return deleted > 0;
  }
  return false;
}

void GarbageCollector::settle() {
  auto lock = store_.lock();
  for (bool progress = true; progress;) {
    progress = false;
    for (auto& [resource, object] : store_.listDeleting()) {
      Json finalizers = finalizersOf(object);
      if (isNamespace(resource)) {
        bool empty = true;
        // A namespace's keys hold only namespaced objects: one is enough to wait.
        for (auto& [contentResource, content] : store_.listNamespace(nameOf(object), 1)) {
          if (isNamespacedResource(contentResource)) empty = false;
        }
        if (empty && finalizers.empty()) {
          store_.remove(resource, "", nameOf(object));
          progress = true;
        }
        continue;
      }
      if (finalizers.size() == 1 && finalizers[0] == kForegroundFinalizer &&
          dependentsOf(object).empty()) {
        removeNow(resource, object);
        progress = true;
      } else if (finalizers.empty() && !awaitsKubelet(resource, object)) {
        removeNow(resource, object);
        progress = true;
      }
    }
  }
}

}  // namespace llmops::devcluster
