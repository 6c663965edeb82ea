#include "status.h"

namespace llmops::devcluster {

Json failureStatus(int code, const std::string& reason, const std::string& message,
                   const Json& details) {
  Json status = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", Json::object()},
                 {"status", "Failure"}, {"message", message}, {"reason", reason},
                 {"code", code}};
  if (!details.is_null()) status["details"] = details;
  return status;
}

Json successStatus(const Json& details) {
  return {{"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", Json::object()},
          {"status", "Success"},
          {"details", details}};
}

Json ApiError::toStatus() const {
  return failureStatus(code_, reason_, what(), details_);
}

std::string qualifiedResource(const std::string& group, const std::string& plural) {
  return group.empty() ? plural : plural + "." + group;
}

static Json nameDetails(const std::string& group, const std::string& plural,
                        const std::string& name) {
  Json details = {{"name", name}, {"kind", plural}};
  if (!group.empty()) details["group"] = group;
  return details;
}

ApiError badRequest(const std::string& message) {
  return ApiError(400, "BadRequest", message);
}

ApiError notFound(const std::string& group, const std::string& plural, const std::string& name) {
  return ApiError(404, "NotFound", qualifiedResource(group, plural) + " \"" + name + "\" not found",
                  nameDetails(group, plural, name));
}

ApiError alreadyExists(const std::string& group, const std::string& plural,
                       const std::string& name) {
  return ApiError(409, "AlreadyExists",
                  qualifiedResource(group, plural) + " \"" + name + "\" already exists",
                  nameDetails(group, plural, name));
}

ApiError conflict(const std::string& group, const std::string& plural, const std::string& name,
                  const std::string& why) {
  return ApiError(409, "Conflict",
                  "Operation cannot be fulfilled on " + qualifiedResource(group, plural) + " \"" +
                      name + "\": " + why,
                  nameDetails(group, plural, name));
}

ApiError invalid(const std::string& group, const std::string& kind, const std::string& name,
                 const Json& causes) {
  std::string message =
      kind + (group.empty() ? "" : "." + group) + " \"" + name + "\" is invalid: ";
  bool first = true;
  for (const auto& cause : causes) {
    if (!first) message += ", ";
    first = false;
    message += cause.value("field", "") + ": " + cause.value("message", "");
  }
  Json details = {{"name", name}, {"kind", kind}, {"causes", causes}};
  if (!group.empty()) details["group"] = group;
  return ApiError(422, "Invalid", message, details);
}

ApiError expired(const std::string& message) {
  return ApiError(410, "Expired", message);
}

ApiError unsupportedMediaType(const std::string& contentType) {
  return ApiError(415, "UnsupportedMediaType",
                  "the body of the request was in an unknown format - accepted media types "
                  "include: application/json-patch+json, application/merge-patch+json, "
                  "application/apply-patch+yaml (got " +
                      contentType + ")");
}

ApiError methodNotSupported(const std::string& verb, const std::string& what) {
  return ApiError(405, "MethodNotAllowed",
                  "the server does not allow this method on the requested resource (" + verb + " " +
                      what + ")");
}

}  // namespace llmops::devcluster
