#include "llmops/kube/api_error.h"

#include <cstdlib>

namespace llmops::kube {

ApiError::ApiError(int code, ApiReason reason, std::string message, nlohmann::json status)
    : std::runtime_error(std::move(message)),
      code_(code),
      reason_(reason),
      status_(std::move(status)) {}

ApiReason reason_of(int code, const nlohmann::json& status) {
  std::string reason;
  if (status.is_object() && status.contains("reason") && status["reason"].is_string()) {
    reason = status["reason"].get<std::string>();
  }
  // The reason in the Status is more precise than the code (409 is Conflict or
  // AlreadyExists); fall back on the code for bodies that are not a Status.
  if (reason == "NotFound") return ApiReason::kNotFound;
  if (reason == "AlreadyExists") return ApiReason::kAlreadyExists;
  if (reason == "Conflict") return ApiReason::kConflict;
  if (reason == "Invalid") return ApiReason::kInvalid;
  if (reason == "Expired" || reason == "Gone") return ApiReason::kExpired;
  if (reason == "Forbidden") return ApiReason::kForbidden;
  if (reason == "Unauthorized") return ApiReason::kUnauthorized;
  if (reason == "TooManyRequests") return ApiReason::kTooManyRequests;
  if (reason == "BadRequest") return ApiReason::kBadRequest;
  if (reason == "UnsupportedMediaType") return ApiReason::kUnsupportedMediaType;
  switch (code) {
    case 400:
      return ApiReason::kBadRequest;
    case 401:
      return ApiReason::kUnauthorized;
    case 403:
      return ApiReason::kForbidden;
    case 404:
      return ApiReason::kNotFound;
    case 409:
      return ApiReason::kConflict;
    case 410:
      return ApiReason::kExpired;
    case 415:
      return ApiReason::kUnsupportedMediaType;
    case 422:
      return ApiReason::kInvalid;
    case 429:
      return ApiReason::kTooManyRequests;
    default:
      break;
  }
  if (code >= 500) return ApiReason::kServerError;
  return ApiReason::kUnknown;
}

const char* reason_name(ApiReason reason) {
  switch (reason) {
    case ApiReason::kNotFound:
      return "NotFound";
    case ApiReason::kConflict:
      return "Conflict";
    case ApiReason::kAlreadyExists:
      return "AlreadyExists";
    case ApiReason::kInvalid:
      return "Invalid";
    case ApiReason::kExpired:
      return "Expired";
    case ApiReason::kForbidden:
      return "Forbidden";
    case ApiReason::kUnauthorized:
      return "Unauthorized";
    case ApiReason::kTooManyRequests:
      return "TooManyRequests";
    case ApiReason::kBadRequest:
      return "BadRequest";
    case ApiReason::kUnsupportedMediaType:
      return "UnsupportedMediaType";
    case ApiReason::kServerError:
      return "ServerError";
    case ApiReason::kUnknown:
      break;
  }
  return "Unknown";
}

namespace {

template <class Error>
[[noreturn]] void raise(int code, ApiReason reason, const std::string& text,
                        const nlohmann::json& status,
                        std::optional<std::chrono::seconds> retry_after) {
  Error error(code, reason, text, status);
  error.retry_after = retry_after;
  throw error;
}

[[noreturn]] void throw_typed(int code, nlohmann::json status, const std::string& raw_body,
                              std::optional<std::chrono::seconds> retry_after) {
  ApiReason reason = reason_of(code, status);
  std::string message;
  if (status.is_object() && status.contains("message") && status["message"].is_string()) {
    message = status["message"].get<std::string>();
  } else {
    message = raw_body.substr(0, 200);
  }
  std::string text = "HTTP " + std::to_string(code) + " " + reason_name(reason) +
                     (message.empty() ? "" : ": " + message);
  if (!status.is_object()) status = nlohmann::json::object();
  switch (reason) {
    case ApiReason::kNotFound:
      raise<NotFoundError>(code, reason, text, status, retry_after);
    case ApiReason::kConflict:
      raise<ConflictError>(code, reason, text, status, retry_after);
    case ApiReason::kAlreadyExists:
      raise<AlreadyExistsError>(code, reason, text, status, retry_after);
    case ApiReason::kInvalid:
      raise<InvalidError>(code, reason, text, status, retry_after);
    case ApiReason::kExpired:
      raise<ExpiredError>(code, reason, text, status, retry_after);
    case ApiReason::kForbidden:
      raise<ForbiddenError>(code, reason, text, status, retry_after);
    case ApiReason::kUnauthorized:
      raise<UnauthorizedError>(code, reason, text, status, retry_after);
    case ApiReason::kTooManyRequests:
      raise<TooManyRequestsError>(code, reason, text, status, retry_after);
    case ApiReason::kServerError:
      raise<ServerError>(code, reason, text, status, retry_after);
    default:
      raise<ApiError>(code, reason, text, status, retry_after);
  }
}

}  // namespace

void throw_api_error(int code, const std::string& body, const std::string& retry_after_header) {
  nlohmann::json status = nlohmann::json::parse(body, nullptr, false);
  if (status.is_discarded() || !status.is_object() || status.value("kind", "") != "Status") {
    status = nlohmann::json::object();
  }
  std::optional<std::chrono::seconds> retry_after;
  if (!retry_after_header.empty()) {
    char* end = nullptr;
    long seconds = std::strtol(retry_after_header.c_str(), &end, 10);
    if (end != retry_after_header.c_str() && seconds >= 0) {
      retry_after = std::chrono::seconds(seconds);
    }
  }
  if (!retry_after && status.contains("details") && status["details"].is_object() &&
      status["details"].contains("retryAfterSeconds") &&
      status["details"]["retryAfterSeconds"].is_number_integer()) {
    retry_after = std::chrono::seconds(status["details"]["retryAfterSeconds"].get<int>());
  }
  throw_typed(code, std::move(status), body, retry_after);
}

void throw_status(const nlohmann::json& status) {
  int code = 500;
  if (status.is_object() && status.contains("code") && status["code"].is_number_integer()) {
    code = status["code"].get<int>();
  }
  throw_typed(code, status, status.dump(), std::nullopt);
}

}  // namespace llmops::kube
