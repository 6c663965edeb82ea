#include "openapi.h"

#include <functional>
#include <set>
#include <vector>

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

std::string groupVersionPath(const ResourceType& type) {
  return type.group.empty() ? "api/" + type.version : "apis/" + type.group + "/" + type.version;
}

// Reverse-DNS schema names, as the apiserver writes them (dev.llmops.v1alpha1.LLMDeployment).
std::string schemaName(const ResourceType& type) {
  if (type.group.empty()) return "io.k8s.api.core." + type.version + "." + type.kind;
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= type.group.size()) {
    size_t dot = type.group.find('.', start);
    if (dot == std::string::npos) dot = type.group.size();
    parts.push_back(type.group.substr(start, dot - start));
    start = dot + 1;
  }
  std::string reversed;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    reversed += (reversed.empty() ? "" : ".") + *it;
  }
  return reversed + "." + type.version + "." + type.kind;
}

Json queryParameter(const std::string& name, const std::string& type,
                    const std::string& description) {
  return {{"name", name},
          {"in", "query"},
          {"description", description},
          {"schema", {{"type", type}, {"uniqueItems", true}}}};
}

Json operation(const ResourceType& type, const std::string& action, const Json& schemaRef,
               const Json& requestContentTypes) {
  Json gvk = {{"group", type.group}, {"version", type.version}, {"kind", type.kind}};
  Json op = {
      {"operationId", action + type.kind},
      {"x-kubernetes-action", action},
      {"x-kubernetes-group-version-kind", gvk},
      {"responses",
       {{"200",
         {{"description", "OK"}, {"content", {{"application/json", {{"schema", schemaRef}}}}}}},
        {"401", {{"description", "Unauthorized"}}}}}};
  Json parameters = Json::array();
  if (action == "patch" || action == "put" || action == "post") {
    parameters.push_back(
        queryParameter("dryRun", "string", "When present, modifications are not persisted."));
    parameters.push_back(
        queryParameter("fieldManager", "string", "A name for the actor making the change."));
    parameters.push_back(queryParameter("fieldValidation", "string",
                                        "Ignore, Warn or Strict handling of unknown fields."));
  }
  if (action == "patch")
    parameters.push_back(queryParameter("force", "boolean", "Force an apply over conflicts."));
  if (!parameters.empty()) op["parameters"] = parameters;
  if (!requestContentTypes.empty()) {
    Json content = Json::object();
    for (const auto& contentType : requestContentTypes) {
      content[contentType.get<std::string>()] = {
          {"schema", action == "patch" ? Json{{"type", "object"}} : schemaRef}};
    }
    op["requestBody"] = {{"content", content}, {"required", true}};
  }
  return op;
}

Json kindSchema(const ResourceType& type) {
  Json schema;
  if (type.custom && type.schema.is_object()) {
    schema = type.schema;
    schema["properties"]["metadata"] = {{"type", "object"}};
    schema["properties"]["apiVersion"] = {{"type", "string"}};
    schema["properties"]["kind"] = {{"type", "string"}};
  } else {
    schema = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  }
  schema["x-kubernetes-group-version-kind"] =
      Json::array({{{"group", type.group}, {"version", type.version}, {"kind", type.kind}}});
  return schema;
}

}  // namespace

Json openApiIndex(const ResourceRegistry& registry) {
  Json paths = Json::object();
  std::set<std::string> seen;
  for (const auto& type : registry.all()) {
    std::string path = groupVersionPath(type);
    if (!seen.insert(path).second) continue;
    auto document = openApiDocument(registry, path);
    std::string hash = std::to_string(std::hash<std::string>{}(document ? document->dump() : ""));
    paths[path] = {{"serverRelativeURL", "/openapi/v3/" + path + "?hash=" + hash}};
  }
  return {{"paths", paths}};
}

std::optional<Json> openApiDocument(const ResourceRegistry& registry, const std::string& gvPath) {
  Json paths = Json::object();
  Json schemas = Json::object();
  bool any = false;
  const Json writeTypes = {"application/json", "application/yaml"};
  const Json patchTypes = {"application/json-patch+json", "application/merge-patch+json",
                           "application/apply-patch+yaml"};
  for (const auto& type : registry.all()) {
    if (groupVersionPath(type) != gvPath) continue;
    any = true;
    std::string name = schemaName(type);
    schemas[name] = kindSchema(type);
    Json ref = {{"$ref", "#/components/schemas/" + name}};
    std::string base =
        "/" + gvPath + (type.namespaced ? "/namespaces/{namespace}/" : "/") + type.plural;
    Json pathParameters = Json::array();
    if (type.namespaced) {
      pathParameters.push_back({{"name", "namespace"},
                                {"in", "path"},
                                {"required", true},
                                {"schema", {{"type", "string"}, {"uniqueItems", true}}}});
    }
    Json itemParameters = pathParameters;
    itemParameters.push_back({{"name", "name"},
                              {"in", "path"},
                              {"required", true},
                              {"schema", {{"type", "string"}, {"uniqueItems", true}}}});
    paths[base] = {{"get", operation(type, "list", ref, Json::array())},
                   {"post", operation(type, "post", ref, writeTypes)},
                   {"delete", operation(type, "deletecollection", ref, Json::array())},
                   {"parameters", pathParameters}};
    paths[base + "/{name}"] = {{"get", operation(type, "get", ref, Json::array())},
                               {"put", operation(type, "put", ref, writeTypes)},
                               {"patch", operation(type, "patch", ref, patchTypes)},
                               {"delete", operation(type, "delete", ref, Json::array())},
                               {"parameters", itemParameters}};
    if (type.statusSubresource) {
      paths[base + "/{name}/status"] = {{"get", operation(type, "get", ref, Json::array())},
                                        {"put", operation(type, "put", ref, writeTypes)},
                                        {"patch", operation(type, "patch", ref, patchTypes)},
                                        {"parameters", itemParameters}};
    }
  }
  if (!any) return std::nullopt;
  return Json{{"openapi", "3.0.0"},
              {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
              {"paths", paths},
              {"components", {{"schemas", schemas}}}};
}

}  // namespace llmops::devcluster
