#include "discovery.h"

#include <map>

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

const char* kAggregatedContentType =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

Json verbsOf(const ResourceType&) {
  return Json::array(
      {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"});
}

// Groups in a stable order: core first, then by name; versions storage-first.
std::map<std::string, std::vector<std::string>> groupVersions(const ResourceRegistry& registry) {
  std::map<std::string, std::vector<std::string>> groups;
  for (const auto& type : registry.all()) {
    auto& versions = groups[type.group];
    if (std::find(versions.begin(), versions.end(), type.version) == versions.end()) {
      versions.push_back(type.version);
    }
  }
  return groups;
}

Json aggregatedResource(const ResourceType& type) {
  Json subresources = Json::array();
  Json responseKind = {{"group", type.group}, {"version", type.version}, {"kind", type.kind}};
  if (type.statusSubresource) {
    subresources.push_back({{"subresource", "status"},
                            {"responseKind", responseKind},
                            {"verbs", {"get", "patch", "update"}}});
  }
  if (type.scale) {
    subresources.push_back(
        {{"subresource", "scale"},
         {"responseKind", {{"group", "autoscaling"}, {"version", "v1"}, {"kind", "Scale"}}},
         {"verbs", {"get", "patch", "update"}}});
  }
  for (const auto& extra : type.extraSubresources) {
    subresources.push_back({{"subresource", extra},
                            {"responseKind", responseKind},
                            {"verbs", extra == "log" ? Json{"get"} : Json{"create"}}});
  }
  Json resource = {{"resource", type.plural},
                   {"responseKind", responseKind},
                   {"scope", type.namespaced ? "Namespaced" : "Cluster"},
                   {"singularResource", type.singular},
                   {"verbs", verbsOf(type)}};
  if (!type.shortNames.empty()) resource["shortNames"] = type.shortNames;
  if (!type.categories.empty()) resource["categories"] = type.categories;
  if (!subresources.empty()) resource["subresources"] = subresources;
  return resource;
}

Json aggregated(const ResourceRegistry& registry, bool core) {
  Json items = Json::array();
  auto types = registry.all();
  for (const auto& [group, versions] : groupVersions(registry)) {
    if (group.empty() != core) continue;
    Json versionList = Json::array();
    for (const auto& version : versions) {
      Json resources = Json::array();
      for (const auto& type : types) {
        if (type.group == group && type.version == version)
          resources.push_back(aggregatedResource(type));
      }
      versionList.push_back(
          {{"version", version}, {"resources", resources}, {"freshness", "Current"}});
    }
    items.push_back({{"metadata", {{"name", group}, {"creationTimestamp", nullptr}}},
                     {"versions", versionList}});
  }
  return {{"kind", "APIGroupDiscoveryList"},
          {"apiVersion", "apidiscovery.k8s.io/v2"},
          {"metadata", Json::object()},
          {"items", items}};
}

Json apiGroup(const std::string& group, const std::vector<std::string>& versions) {
  Json list = Json::array();
  for (const auto& version : versions) {
    list.push_back({{"groupVersion", group + "/" + version}, {"version", version}});
  }
  return {{"name", group}, {"versions", list}, {"preferredVersion", list[0]}};
}

Json resourceList(const ResourceRegistry& registry, const std::string& group,
                  const std::string& version) {
  Json resources = Json::array();
  for (const auto& type : registry.all()) {
    if (type.group != group || type.version != version) continue;
    Json resource = {{"name", type.plural},
                     {"singularName", type.singular},
                     {"namespaced", type.namespaced},
                     {"kind", type.kind},
                     {"verbs", verbsOf(type)}};
    if (!type.shortNames.empty()) resource["shortNames"] = type.shortNames;
    if (!type.categories.empty()) resource["categories"] = type.categories;
    resources.push_back(resource);
    if (type.statusSubresource) {
      resources.push_back({{"name", type.plural + "/status"},
                           {"singularName", ""},
                           {"namespaced", type.namespaced},
                           {"kind", type.kind},
                           {"verbs", {"get", "patch", "update"}}});
    }
    if (type.scale) {
      resources.push_back({{"name", type.plural + "/scale"},
                           {"singularName", ""},
                           {"namespaced", type.namespaced},
                           {"group", "autoscaling"},
                           {"version", "v1"},
                           {"kind", "Scale"},
                           {"verbs", {"get", "patch", "update"}}});
    }
    for (const auto& extra : type.extraSubresources) {
      resources.push_back({{"name", type.plural + "/" + extra},
                           {"singularName", ""},
                           {"namespaced", type.namespaced},
                           {"kind", type.kind},
                           {"verbs", extra == "log" ? Json{"get"} : Json{"create"}}});
    }
  }
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", group.empty() ? version : group + "/" + version},
          {"resources", resources}};
}

}  // namespace

std::optional<DiscoveryReply> discover(const ResourceRegistry& registry, const std::string& rawPath,
                                       const std::string& accept,
                                       const std::string& serverAddress) {
  std::string path = rawPath;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const bool wantsAggregated = accept.find("as=APIGroupDiscoveryList") != std::string::npos &&
                               accept.find("v=v2") != std::string::npos &&
                               accept.find("g=apidiscovery.k8s.io") != std::string::npos;
  if (path == "/api" || path == "/apis") {
    const bool core = path == "/api";
    if (wantsAggregated)
      return DiscoveryReply{200, kAggregatedContentType, aggregated(registry, core)};
    if (core) {
      return DiscoveryReply{200,
                            "application/json",
                            {{"kind", "APIVersions"},
                             {"versions", {"v1"}},
                             {"serverAddressByClientCIDRs",
                              {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", serverAddress}}}}}};
    }
    Json groups = Json::array();
    for (const auto& [group, versions] : groupVersions(registry)) {
      if (!group.empty()) groups.push_back(apiGroup(group, versions));
    }
    return DiscoveryReply{200,
                          "application/json",
                          {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}}};
  }
  if (path == "/api/v1")
    return DiscoveryReply{200, "application/json", resourceList(registry, "", "v1")};
  if (path.rfind("/apis/", 0) != 0) return std::nullopt;
  std::string rest = path.substr(6);
  auto slash = rest.find('/');
  auto groups = groupVersions(registry);
  if (slash == std::string::npos) {
    auto it = groups.find(rest);
    if (it == groups.end() || rest.empty()) return std::nullopt;
    Json group = apiGroup(rest, it->second);
    group["kind"] = "APIGroup";
    group["apiVersion"] = "v1";
    return DiscoveryReply{200, "application/json", group};
  }
  std::string group = rest.substr(0, slash);
  std::string version = rest.substr(slash + 1);
  if (version.find('/') != std::string::npos || !registry.groupVersionServed(group, version)) {
    return std::nullopt;
  }
  return DiscoveryReply{200, "application/json", resourceList(registry, group, version)};
}

}  // namespace llmops::devcluster
