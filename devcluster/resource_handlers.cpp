#include "resource_handlers.h"

#include "body_decoding.h"
#include "object_lifecycle.h"
#include "object_validation.h"
#include "patch.h"
#include "selectors.h"
#include "server_side_apply.h"
#include "status.h"
#include "table.h"
#include "time_format.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

std::string hexEncode(const std::string& text) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string hexDecode(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (text.size() % 2) throw badRequest("invalid continue token");
  std::string out;
  for (size_t i = 0; i < text.size(); i += 2) {
    int high = value(text[i]), low = value(text[i + 1]);
    if (high < 0 || low < 0) throw badRequest("invalid continue token");
    out.push_back(static_cast<char>(high * 16 + low));
  }
  return out;
}

std::string queryValue(const ApiRequest& request, const std::string& key) {
  auto it = request.info.query.find(key);
  return it == request.info.query.end() ? "" : it->second;
}

bool dryRun(const ApiRequest& request) {
  auto it = request.info.query.find("dryRun");
  if (it == request.info.query.end() || it->second.empty()) return false;
  if (it->second != "All") throw badRequest("unsupported dryRun value \"" + it->second + "\"");
  return true;
}

FieldValidation fieldValidation(const ApiRequest& request) {
  std::string value = queryValue(request, "fieldValidation");
  if (value == "Strict") return FieldValidation::Strict;
  if (value == "Ignore") return FieldValidation::Ignore;
  if (value.empty() || value == "Warn") return FieldValidation::Warn;
  throw badRequest("fieldValidation must be one of Ignore, Warn or Strict, got \"" + value + "\"");
}

std::string fieldManager(const ApiRequest& request) {
  std::string manager = queryValue(request, "fieldManager");
  if (!manager.empty()) return manager;
  std::string agent = request.userAgent.substr(0, request.userAgent.find('/'));
  return agent.empty() ? "unknown" : agent;
}

std::string storeNamespace(const ApiRequest& request) {
  return request.type.namespaced ? request.info.namespaceName : "";
}

Json decodeObjectBody(const ApiRequest& request) {
  Json body = decodeBody(request.http.body, request.http.header("Content-Type"));
  if (!body.is_object()) throw badRequest("the request body must be a JSON object");
  if (body.contains("metadata") && !body["metadata"].is_object()) {
    throw badRequest("metadata must be an object");
  }
  return body;
}

void checkTypeOf(const ApiRequest& request, Json& body, const std::string& expectKind,
                 const std::string& expectApiVersion) {
  const std::string apiVersion = body.value("apiVersion", "");
  const std::string kind = body.value("kind", "");
  if (!apiVersion.empty() && apiVersion != expectApiVersion) {
    throw badRequest("the API version in the data (" + apiVersion +
                     ") does not match the expected API version (" + expectApiVersion + ")");
  }
  if (!kind.empty() && kind != expectKind) {
    throw badRequest("the kind in the data (" + kind + ") does not match the expected kind (" +
                     expectKind + ")");
  }
  body["apiVersion"] = expectApiVersion;
  body["kind"] = expectKind;
  if (!body["metadata"].is_object()) body["metadata"] = Json::object();
}

// Replaces the value at a printer-column style path (.spec.replicas).
void setAtPath(Json& object, const std::string& path, const Json& value) {
  Json* node = &object;
  size_t start = path.empty() || path[0] != '.' ? 0 : 1;
  while (start < path.size()) {
    size_t end = path.find('.', start);
    std::string key =
        path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!node->is_object()) *node = Json::object();
    node = &(*node)[key];
    if (end == std::string::npos) break;
    start = end + 1;
  }
  *node = value;
}

// What decides whether a write changed anything: not the resourceVersion, nor the time
// a manager last touched its fields (an identical re-apply must not write).
Json withoutVolatileMetadata(Json object) {
  if (object.contains("metadata")) {
    auto& metadata = object["metadata"];
    metadata.erase("resourceVersion");
    if (metadata.contains("managedFields") && metadata["managedFields"].is_array()) {
      for (auto& entry : metadata["managedFields"]) {
        if (entry.is_object()) entry.erase("time");
      }
    }
  }
  return object;
}

// What a write stores, by the subresource it came through: a /status write takes only
// the status from the written object; a main-resource write of a type with a status
// subresource keeps the stored status.
Json mergeBySubresource(const ResourceType& type, const std::string& subresource, const Json& old,
                        Json written) {
  if (subresource == "status") {
    Json object = old;
    if (written.contains("status")) {
      object["status"] = std::move(written["status"]);
    } else {
      object.erase("status");
    }
    return object;
  }
  if (type.statusSubresource) {
    if (old.contains("status")) {
      written["status"] = old["status"];
    } else {
      written.erase("status");
    }
  }
  return written;
}

PropagationPolicy propagationFrom(const std::string& text, const Json& options) {
  std::string policy = text;
  if (policy.empty()) policy = options.value("propagationPolicy", "");
  if (policy.empty() && options.contains("orphanDependents") &&
      options["orphanDependents"].is_boolean()) {
    policy = options["orphanDependents"].get<bool>() ? "Orphan" : "Background";
  }
  if (policy.empty() || policy == "Background") return PropagationPolicy::Background;
  if (policy == "Foreground") return PropagationPolicy::Foreground;
  if (policy == "Orphan") return PropagationPolicy::Orphan;
  throw ApiError(422, "Invalid", "propagationPolicy: Unsupported value: \"" + policy + "\"");
}

}  // namespace

Json ResourceHandlers::present(const ResourceType& type, Json object) {
  object["apiVersion"] = type.apiVersion();
  object["kind"] = type.kind;
  return object;
}

void ResourceHandlers::registerStoredCrds() {
  for (const auto& crd : store_.list("apiextensions.k8s.io/customresourcedefinitions", "")) {
    try {
      registry_.setCustomResources(crd["metadata"].value("name", ""), resourceTypesFromCrd(crd));
    } catch (const ApiError&) {
      // A CRD the server stored was valid when written; skip one that no longer parses.
    }
  }
}

void ResourceHandlers::afterCrdChange(const Json& crd, bool removed) {
  const std::string name = crd["metadata"].value("name", "");
  if (removed) {
    auto types = resourceTypesFromCrd(crd);
    if (!types.empty()) store_.removeAll(types.front().storageKey());
    registry_.setCustomResources(name, {});
  } else {
    registry_.setCustomResources(name, resourceTypesFromCrd(crd));
  }
}

Json ResourceHandlers::current(const ApiRequest& request) const {
  auto object = store_.get(request.type.storageKey(), storeNamespace(request), request.info.name);
  if (!object) throw notFound(request.type.group, request.type.plural, request.info.name);
  return *object;
}

Json ResourceHandlers::scaleOf(const ResourceType& type, const Json& object) const {
  const auto& scale = *type.scale;
  auto specReplicas = evaluateJsonPath(object, scale.specReplicasPath);
  auto statusReplicas = evaluateJsonPath(object, scale.statusReplicasPath);
  Json result = {{"kind", "Scale"},
                 {"apiVersion", "autoscaling/v1"},
                 {"metadata",
                  {{"name", object["metadata"]["name"]},
                   {"uid", object["metadata"].value("uid", "")},
                   {"resourceVersion", object["metadata"].value("resourceVersion", "")},
                   {"creationTimestamp", object["metadata"].value("creationTimestamp", "")}}},
                 {"spec", {{"replicas", specReplicas.empty() ? Json(0) : specReplicas[0]}}},
                 {"status", {{"replicas", statusReplicas.empty() ? Json(0) : statusReplicas[0]}}}};
  if (object["metadata"].contains("namespace")) {
    result["metadata"]["namespace"] = object["metadata"]["namespace"];
  }
  if (!scale.labelSelectorPath.empty()) {
    auto selector = evaluateJsonPath(object, scale.labelSelectorPath);
    if (!selector.empty() && selector[0].is_string()) result["status"]["selector"] = selector[0];
  }
  return result;
}

Json ResourceHandlers::withScale(const ResourceType& type, Json object, const Json& scale) const {
  if (!scale.is_object() || !scale.contains("spec") || !scale["spec"].contains("replicas") ||
      !scale["spec"]["replicas"].is_number_integer()) {
    throw invalid("autoscaling", "Scale", object["metadata"].value("name", ""),
                  Json::array({{{"reason", "FieldValueInvalid"},
                                {"message", "Invalid value: spec.replicas must be an integer"},
                                {"field", "spec.replicas"}}}));
  }
  if (scale["spec"]["replicas"].get<int64_t>() < 0) {
    throw invalid("autoscaling", "Scale", object["metadata"].value("name", ""),
                  Json::array({{{"reason", "FieldValueInvalid"},
                                {"message", "Invalid value: must be greater than or equal to 0"},
                                {"field", "spec.replicas"}}}));
  }
  setAtPath(object, type.scale->specReplicasPath, scale["spec"]["replicas"]);
  return object;
}

ApiResponse ResourceHandlers::handle(const ApiRequest& request) {
  const auto& info = request.info;
  const auto& type = request.type;
  if (type.namespaced && info.namespaceName.empty() && info.verb != "list" &&
      info.verb != "deletecollection") {
    throw ApiError(404, "NotFound", "the server could not find the requested resource");
  }
  if (!info.subresource.empty()) {
    const auto& sub = info.subresource;
    bool served = (sub == "status" && type.statusSubresource) || (sub == "scale" && type.scale) ||
                  std::find(type.extraSubresources.begin(), type.extraSubresources.end(), sub) !=
                      type.extraSubresources.end();
    if (!served || info.name.empty()) {
      throw ApiError(404, "NotFound", "the server could not find the requested resource");
    }
    if (sub == "binding" && info.verb == "create") {
      auto lock = store_.lock();
      Json pod = current(request);
      Json body = decodeObjectBody(request);
      std::string node = body.contains("target") ? body["target"].value("name", "") : "";
      if (node.empty()) throw badRequest("binding target.name is required");
      if (pod["spec"].contains("nodeName") && !pod["spec"]["nodeName"].get<std::string>().empty()) {
        throw conflict("", "pods", info.name,
                       "pod " + info.name + " is already assigned to node \"" +
                           pod["spec"]["nodeName"].get<std::string>() + "\"");
      }
      pod["spec"]["nodeName"] = node;
      store_.put(type.storageKey(), pod);
      return {201, successStatus(nullptr)};
    }
    if (sub == "log" || sub == "binding" || sub == "finalize") {
      if (sub == "log") current(request);
      throw ApiError(
          400, "BadRequest",
          "the devcluster does not serve " + info.verb + " on the " + sub + " subresource");
    }
  }
  if (info.verb == "get") return get(request);
  if (info.verb == "list") return list(request);
  if (info.verb == "create") return create(request);
  if (info.verb == "update") return update(request);
  if (info.verb == "patch") return patch(request);
  if (info.verb == "delete") return remove(request);
  if (info.verb == "deletecollection") return removeCollection(request);
  throw methodNotSupported(info.verb, qualifiedResource(type.group, type.plural));
}

ApiResponse ResourceHandlers::get(const ApiRequest& request) {
  Json object = present(request.type, current(request));
  if (request.info.subresource == "scale") return {200, scaleOf(request.type, object)};
  if (request.wantsTable && request.info.subresource.empty()) {
    TableOptions options;
    options.includeFullObject = request.includeFullObject;
    return {200, makeTable(request.type, {object},
                           {{"resourceVersion", object["metadata"].value("resourceVersion", "")}},
                           options)};
  }
  return {200, object};
}

ApiResponse ResourceHandlers::list(const ApiRequest& request) {
  const auto& type = request.type;
  auto labels = LabelSelector::parse(queryValue(request, "labelSelector"));
  auto fields = FieldSelector::parse(queryValue(request, "fieldSelector"));
  const std::string resourceVersion = queryValue(request, "resourceVersion");
  const std::string match = queryValue(request, "resourceVersionMatch");
  const std::string continueToken = queryValue(request, "continue");
  if (!match.empty() && resourceVersion.empty()) {
    throw ApiError(422, "Invalid",
                   "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless "
                   "resourceVersion is provided");
  }
  if (!match.empty() && match != "NotOlderThan" && match != "Exact") {
    throw ApiError(422, "Invalid", "resourceVersionMatch: Unsupported value: \"" + match + "\"");
  }
  if (!continueToken.empty() && !resourceVersion.empty() && resourceVersion != "0") {
    throw badRequest("specifying resource version is not allowed when using continue");
  }
  int64_t limit = 0;
  if (auto text = queryValue(request, "limit"); !text.empty()) {
    try {
      limit = std::stoll(text);
    } catch (const std::exception&) {
      throw badRequest("invalid limit " + text);
    }
  }
  auto lock = store_.lock();
  uint64_t listVersion = store_.resourceVersion();
  std::string startAfter;
  if (!continueToken.empty()) {
    Json token = Json::parse(hexDecode(continueToken), nullptr, false);
    if (token.is_discarded() || !token.contains("rv") || !token.contains("start")) {
      throw badRequest("invalid continue token");
    }
    if (token["rv"].get<uint64_t>() < store_.compactedResourceVersion()) {
      throw expired(
          "The provided continue parameter is too old to display a consistent list "
          "result. You can start a new list without the continue parameter.");
    }
    startAfter = token["start"].get<std::string>();
  }
  std::vector<Json> items;
  std::string lastKey;
  int64_t remaining = 0;
  for (auto& object : store_.list(type.storageKey(), storeNamespace(request))) {
    const auto& metadata = object["metadata"];
    std::string key = metadata.value("namespace", "") + "/" + metadata.value("name", "");
    if (!startAfter.empty() && key <= startAfter) continue;
    if (!labels.matches(metadata.value("labels", Json::object())) || !fields.matches(object)) {
      continue;
    }
    if (limit > 0 && static_cast<int64_t>(items.size()) >= limit) {
      ++remaining;
      continue;
    }
    items.push_back(present(type, std::move(object)));
    lastKey = key;
  }
  Json metadata = {{"resourceVersion", std::to_string(listVersion)}};
  if (remaining > 0) {
    metadata["continue"] = hexEncode(Json{{"rv", listVersion}, {"start", lastKey}}.dump());
    metadata["remainingItemCount"] = remaining;
  }
  if (request.wantsTable) {
    TableOptions options;
    options.includeFullObject = request.includeFullObject;
    return {200, makeTable(type, items, metadata, options)};
  }
  return {200,
          {{"kind", type.kind + "List"},
           {"apiVersion", type.apiVersion()},
           {"metadata", metadata},
           {"items", items}}};
}

ApiResponse ResourceHandlers::create(const ApiRequest& request) {
  const auto& type = request.type;
  if (!request.info.name.empty()) {
    throw methodNotSupported("POST",
                             qualifiedResource(type.group, type.plural) + "/" + request.info.name);
  }
  Json object = decodeObjectBody(request);
  checkTypeOf(request, object, type.kind, type.apiVersion());
  auto& metadata = object["metadata"];
  const std::string ns = storeNamespace(request);
  if (type.namespaced) {
    std::string bodyNamespace = metadata.value("namespace", "");
    if (!bodyNamespace.empty() && bodyNamespace != ns) {
      throw badRequest(
          "the namespace of the provided object does not match the namespace sent "
          "on the request");
    }
    metadata["namespace"] = ns;
  } else {
    metadata.erase("namespace");
  }
  if (metadata.value("name", "").empty()) {
    std::string prefix = metadata.value("generateName", "");
    if (prefix.empty()) {
      throw invalid(type.group, type.kind, "",
                    Json::array({{{"reason", "FieldValueRequired"},
                                  {"message", "Required value: name or generateName is required"},
                                  {"field", "metadata.name"}}}));
    }
    metadata["name"] = generatedName(prefix, randomNameSuffix());
  }
  auto lock = store_.lock();
  if (type.namespaced) {
    auto space = store_.get("/namespaces", "", ns);
    if (!space) throw notFound("", "namespaces", ns);
    if ((*space)["metadata"].contains("deletionTimestamp")) {
      throw ApiError(403, "Forbidden",
                     qualifiedResource(type.group, type.plural) + " \"" +
                         metadata["name"].get<std::string>() +
                         "\" is forbidden: unable to create new content in namespace " + ns +
                         " because it is being terminated");
    }
  }
  if (store_.get(type.storageKey(), ns, metadata["name"].get<std::string>())) {
    throw alreadyExists(type.group, type.plural, metadata["name"].get<std::string>());
  }
  prepareForCreate(type, object);
  return commitWrite(request, nullptr, std::move(object), 201);
}

ApiResponse ResourceHandlers::update(const ApiRequest& request) {
  const auto& type = request.type;
  Json body = decodeObjectBody(request);
  auto lock = store_.lock();
  Json old = current(request);
  const bool scale = request.info.subresource == "scale";
  if (scale) {
    checkTypeOf(request, body, "Scale", "autoscaling/v1");
  } else {
    checkTypeOf(request, body, type.kind, type.apiVersion());
  }
  const std::string bodyName = body["metadata"].value("name", "");
  if (!bodyName.empty() && bodyName != request.info.name) {
    throw badRequest("the name of the object (" + bodyName +
                     ") does not match the name on the URL (" + request.info.name + ")");
  }
  const std::string version = body["metadata"].value("resourceVersion", "");
  if (version.empty() && (type.custom || scale)) {
    throw invalid(type.group, type.kind, request.info.name,
                  Json::array({{{"reason", "FieldValueInvalid"},
                                {"message", "Invalid value: 0x0: must be specified for an update"},
                                {"field", "metadata.resourceVersion"}}}));
  }
  if (!version.empty() && version != old["metadata"].value("resourceVersion", "")) {
    throw conflict(type.group, type.plural, request.info.name,
                   "the object has been modified; please apply your changes to the latest "
                   "version and try again");
  }
  Json object;
  if (scale) {
    object = withScale(type, old, body);
  } else {
    object = mergeBySubresource(type, request.info.subresource, old, body);
  }
  return commitWrite(request, old, std::move(object), 200);
}

ApiResponse ResourceHandlers::patch(const ApiRequest& request) {
  const auto& type = request.type;
  std::string contentType = request.http.header("Content-Type");
  contentType = contentType.substr(0, contentType.find(';'));
  const bool apply = contentType == "application/apply-patch+yaml";
  if (contentType == "application/strategic-merge-patch+json" && type.custom) {
    throw unsupportedMediaType(contentType);
  }
  if (!apply && contentType != "application/merge-patch+json" &&
      contentType != "application/json-patch+json" &&
      contentType != "application/strategic-merge-patch+json") {
    throw unsupportedMediaType(contentType);
  }
  Json patchBody = decodeBody(request.http.body, contentType);
  auto lock = store_.lock();
  auto stored = store_.get(type.storageKey(), storeNamespace(request), request.info.name);
  const std::string sub = request.info.subresource;

  if (apply) {
    if (queryValue(request, "fieldManager").empty()) {
      throw badRequest("PATCH, fieldManager is required for apply requests");
    }
    if (!patchBody.is_object()) throw badRequest("apply configuration must be an object");
    if (!patchBody["metadata"].is_object()) patchBody["metadata"] = Json::object();
    checkTypeOf(request, patchBody, sub == "scale" ? "Scale" : type.kind,
                sub == "scale" ? "autoscaling/v1" : type.apiVersion());
    std::string bodyName = patchBody["metadata"].value("name", "");
    if (!bodyName.empty() && bodyName != request.info.name) {
      throw badRequest("the name of the object (" + bodyName +
                       ") does not match the name on the URL (" + request.info.name + ")");
    }
    patchBody["metadata"]["name"] = request.info.name;
    if (type.namespaced) patchBody["metadata"]["namespace"] = storeNamespace(request);
    bool force = queryFlag(request.info.query, "force");
    if (!stored) {
      if (!sub.empty()) throw notFound(type.group, type.plural, request.info.name);
      Json created = serverSideApply(nullptr, patchBody, fieldManager(request), type.apiVersion(),
                                     force, type.group, type.plural);
      created["apiVersion"] = type.apiVersion();
      created["kind"] = type.kind;
      if (type.namespaced) {
        auto space = store_.get("/namespaces", "", storeNamespace(request));
        if (!space) throw notFound("", "namespaces", storeNamespace(request));
      }
      prepareForCreate(type, created);
      return commitWrite(request, nullptr, std::move(created), 201);
    }
    Json object = serverSideApply(*stored, patchBody, fieldManager(request), type.apiVersion(),
                                  force, type.group, type.plural);
    if (sub == "status") {
      Json onlyStatus = *stored;
      onlyStatus["metadata"]["managedFields"] =
          object["metadata"].value("managedFields", Json::array());
      if (object.contains("status")) onlyStatus["status"] = object["status"];
      object = onlyStatus;
    } else if (type.statusSubresource) {
      if (stored->contains("status")) {
        object["status"] = (*stored)["status"];
      } else {
        object.erase("status");
      }
    }
    return commitWrite(request, *stored, std::move(object), 200);
  }

  if (!stored) throw notFound(type.group, type.plural, request.info.name);
  const Json& old = *stored;
  auto applyPatch = [&](const Json& target) {
    if (contentType == "application/json-patch+json") return applyJsonPatch(target, patchBody);
    if (contentType == "application/merge-patch+json") return applyMergePatch(target, patchBody);
    return applyStrategicMergePatch(target, patchBody);
  };
  Json object;
  if (sub == "scale") {
    Json scale = applyPatch(scaleOf(type, present(type, old)));
    object = withScale(type, old, scale);
  } else {
    Json patched = applyPatch(present(type, old));
    if (!patched.is_object() || !patched["metadata"].is_object()) {
      throw ApiError(422, "Invalid", "the patch removed the object's metadata");
    }
    const std::string version = patched["metadata"].value("resourceVersion", "");
    if (!version.empty() && version != old["metadata"].value("resourceVersion", "")) {
      throw conflict(type.group, type.plural, request.info.name,
                     "the object has been modified; please apply your changes to the latest "
                     "version and try again");
    }
    if (patched.value("apiVersion", "") != type.apiVersion() ||
        patched.value("kind", "") != type.kind) {
      throw badRequest("a patch may not change apiVersion or kind");
    }
    object = mergeBySubresource(type, sub, old, std::move(patched));
  }
  return commitWrite(request, old, std::move(object), 200);
}

ApiResponse ResourceHandlers::commitWrite(const ApiRequest& request, const Json& old, Json object,
                                          int successCode) {
  const auto& type = request.type;
  const bool creating = old.is_null();
  if (!creating) prepareForUpdate(type, old, object);
  ApiResponse response{successCode, nullptr, {}};
  // Built-in kinds: unknown top-level fields are dropped as the real decoder drops them
  // (or refused under fieldValidation=Strict); custom resources are pruned by their schema.
  if (auto unknown = pruneUnknownTopLevelFields(type, object); !unknown.empty()) {
    const auto validation = fieldValidation(request);
    std::string message;
    for (const auto& field : unknown) {
      message += (message.empty() ? "" : ", ") + std::string("unknown field \"") + field + "\"";
      if (validation == FieldValidation::Warn) {
        response.headers.emplace_back("Warning", "299 - \"unknown field \\\"" + field + "\\\"\"");
      }
    }
    if (validation == FieldValidation::Strict) {
      throw badRequest(type.kind + " in version \"" + type.version + "\" cannot be handled as a " +
                       type.kind + ": strict decoding error: " + message);
    }
  }
  validateObjectMeta(type, object);
  if (type.group.empty() && type.kind == "Pod") validatePodSpec(object);
  if (type.custom) {
    auto result = admitCustomResource(type, object, fieldValidation(request));
    for (const auto& warning : result.warnings) {
      response.headers.emplace_back("Warning", "299 - \"" + warning + "\"");
    }
  }
  if (type.kind == "CustomResourceDefinition") admitCustomResourceDefinition(object);
  const bool applied = request.http.header("Content-Type").rfind("application/apply-patch", 0) == 0;
  if (!applied) recordUpdate(object, old, fieldManager(request), type.apiVersion());

  const bool deleting = !creating && old["metadata"].contains("deletionTimestamp");
  if (!creating && withoutVolatileMetadata(object) == withoutVolatileMetadata(old)) {
    object = old;  // a no-op write keeps the resourceVersion
  } else if (!dryRun(request)) {
    object = store_.put(type.storageKey(), object);
    if (type.kind == "CustomResourceDefinition") afterCrdChange(object, false);
    if (deleting) collector_.settle();
  }
  object = present(type, std::move(object));
  if (request.info.subresource == "scale") {
    response.body = scaleOf(type, object);
  } else {
    response.body = std::move(object);
  }
  return response;
}

ApiResponse ResourceHandlers::remove(const ApiRequest& request) {
  const auto& type = request.type;
  Json options = Json::object();
  if (request.http.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    options = decodeBody(request.http.body, request.http.header("Content-Type"));
    if (!options.is_object()) throw badRequest("DeleteOptions must be an object");
  }
  auto policy = propagationFrom(queryValue(request, "propagationPolicy"), options);
  int64_t grace = -1;
  if (auto text = queryValue(request, "gracePeriodSeconds"); !text.empty()) {
    try {
      grace = std::stoll(text);
    } catch (const std::exception&) {
      throw badRequest("invalid gracePeriodSeconds " + text);
    }
  } else if (options.contains("gracePeriodSeconds") &&
             options["gracePeriodSeconds"].is_number_integer()) {
    grace = options["gracePeriodSeconds"].get<int64_t>();
  }
  bool isDryRun = dryRun(request);
  if (options.contains("dryRun") && options["dryRun"].is_array()) {
    for (const auto& value : options["dryRun"]) isDryRun = isDryRun || value == "All";
  }
  auto lock = store_.lock();
  Json object = current(request);
  const auto& metadata = object["metadata"];
  if (options.contains("preconditions") && options["preconditions"].is_object()) {
    const auto& preconditions = options["preconditions"];
    if (preconditions.contains("uid") && preconditions["uid"].is_string() &&
        preconditions["uid"] != metadata.value("uid", "")) {
      throw conflict(
          type.group, type.plural, request.info.name,
          "Precondition failed: UID in precondition: " + preconditions["uid"].get<std::string>() +
              ", UID in object meta: " + metadata.value("uid", ""));
    }
    if (preconditions.contains("resourceVersion") && preconditions["resourceVersion"].is_string() &&
        preconditions["resourceVersion"] != metadata.value("resourceVersion", "")) {
      throw conflict(
          type.group, type.plural, request.info.name,
          "Precondition failed: ResourceVersion in precondition: " +
              preconditions["resourceVersion"].get<std::string>() +
              ", ResourceVersion in object meta: " + metadata.value("resourceVersion", ""));
    }
  }
  if (isDryRun) return {200, present(type, object)};

  // A Pod on a node ends gracefully: its kubelet stops it and deletes it with grace 0.
  const bool pod = type.group.empty() && type.kind == "Pod";
  const bool onNode = pod && object["spec"].value("nodeName", "") != "";
  if (onNode && grace != 0) {
    if (grace < 0) grace = object["spec"].value("terminationGracePeriodSeconds", 30);
    if (!metadata.contains("deletionTimestamp")) {
      object["metadata"]["deletionTimestamp"] =
          formatTimestamp(std::chrono::system_clock::now() + std::chrono::seconds(grace));
      object["metadata"]["deletionGracePeriodSeconds"] = grace;
      object = store_.put(type.storageKey(), object);
    }
    return {200, present(type, object)};
  }
  bool removed = false;
  Json last = collector_.requestDeletion(type.storageKey(), object, policy, removed);
  if (type.kind == "CustomResourceDefinition" && removed) afterCrdChange(last, true);
  if (removed && type.custom) {
    Json details = {{"name", request.info.name},
                    {"group", type.group},
                    {"kind", type.plural},
                    {"uid", last["metadata"].value("uid", "")}};
    return {200, successStatus(details)};
  }
  return {200, present(type, last)};
}

ApiResponse ResourceHandlers::removeCollection(const ApiRequest& request) {
  const auto& type = request.type;
  auto labels = LabelSelector::parse(queryValue(request, "labelSelector"));
  auto fields = FieldSelector::parse(queryValue(request, "fieldSelector"));
  auto policy = propagationFrom(queryValue(request, "propagationPolicy"), Json::object());
  auto lock = store_.lock();
  Json items = Json::array();
  for (auto& object : store_.list(type.storageKey(), storeNamespace(request))) {
    if (!labels.matches(object["metadata"].value("labels", Json::object())) ||
        !fields.matches(object)) {
      continue;
    }
    if (dryRun(request)) {
      items.push_back(present(type, object));
      continue;
    }
    bool removed = false;
    Json last = collector_.requestDeletion(type.storageKey(), object, policy, removed);
    if (type.kind == "CustomResourceDefinition" && removed) afterCrdChange(last, true);
    items.push_back(present(type, last));
  }
  return {200,
          {{"kind", type.kind + "List"},
           {"apiVersion", type.apiVersion()},
           {"metadata", {{"resourceVersion", std::to_string(store_.resourceVersion())}}},
           {"items", items}}};
}

}  // namespace llmops::devcluster
