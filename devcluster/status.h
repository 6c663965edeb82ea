// Kubernetes Status objects and the ApiError exception every handler throws to answer
// with one: the single error convention of the devcluster's request layer.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace llmops::devcluster {

using Json = nlohmann::json;

class ApiError : public std::runtime_error {
 public:
  ApiError(int code, std::string reason, const std::string& message, Json details = nullptr)
      : std::runtime_error(message),
        code_(code),
        reason_(std::move(reason)),
        details_(std::move(details)) {}
  int code() const { return code_; }
  const std::string& reason() const { return reason_; }
  const Json& details() const { return details_; }
  Json toStatus() const;

 private:
  int code_;
  std::string reason_;
  Json details_;
};

Json failureStatus(int code, const std::string& reason, const std::string& message,
                   const Json& details = nullptr);
Json successStatus(const Json& details);

// "pods" in core, "llmdeployments.llmops.dev" elsewhere: how Kubernetes names a resource
// in error messages.
std::string qualifiedResource(const std::string& group, const std::string& plural);

ApiError badRequest(const std::string& message);
ApiError notFound(const std::string& group, const std::string& plural, const std::string& name);
ApiError alreadyExists(const std::string& group, const std::string& plural,
                       const std::string& name);
ApiError conflict(const std::string& group, const std::string& plural, const std::string& name,
                  const std::string& why);
// 422 with details.causes: one {reason, message, field} per invalid field.
ApiError invalid(const std::string& group, const std::string& kind, const std::string& name,
                 const Json& causes);
ApiError expired(const std::string& message);
ApiError unsupportedMediaType(const std::string& contentType);
ApiError methodNotSupported(const std::string& verb, const std::string& what);

}  // namespace llmops::devcluster
