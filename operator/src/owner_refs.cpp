#include "llmops/kube/owner_refs.h"

namespace llmops::kube {

std::optional<std::string> controller_key(const nlohmann::json& child, const std::string& group,
                                          const std::string& kind) {
  const auto& metadata = child.at("metadata");
  auto refs = metadata.find("ownerReferences");
  if (refs == metadata.end() || !refs->is_array()) return std::nullopt;
  for (const auto& ref : *refs) {
    if (!ref.value("controller", false)) continue;
    // At most one reference is the controller: if it is not ours, nobody maps.
    std::string api_version = ref.value("apiVersion", "");
    auto slash = api_version.find('/');
    std::string ref_group = slash == std::string::npos ? "" : api_version.substr(0, slash);
    if (ref_group != group || ref.value("kind", "") != kind) return std::nullopt;
    std::string ns = metadata.value("namespace", "");
    std::string name = ref.value("name", "");
    if (name.empty()) return std::nullopt;
    return ns.empty() ? name : ns + "/" + name;
  }
  return std::nullopt;
}

nlohmann::json controller_reference(const nlohmann::json& owner) {
  return {{"apiVersion", owner.at("apiVersion")},
          {"kind", owner.at("kind")},
          {"name", owner.at("metadata").at("name")},
          {"uid", owner.at("metadata").at("uid")},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

}  // namespace llmops::kube
