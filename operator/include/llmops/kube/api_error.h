// Errors of the Kubernetes client layer. The client throws: an ApiError subclass when the
// server answered with a failure Status, TransportError when no answer came (network,
// TLS, timeout). Callers catch the type they can act on (NotFound, Conflict, Expired...).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace llmops::kube {

// The Status reasons the client distinguishes (metav1.StatusReason).
enum class ApiReason {
  kUnknown,
  kNotFound,
  kConflict,
  kAlreadyExists,
  kInvalid,
  kExpired,  // 410: Expired or Gone
  kForbidden,
  kUnauthorized,
  kTooManyRequests,
  kBadRequest,
  kUnsupportedMediaType,
  kServerError,  // 5xx
};

class ApiError : public std::runtime_error {
 public:
  ApiError(int code, ApiReason reason, std::string message, nlohmann::json status);
  int code() const { return code_; }
  ApiReason reason() const { return reason_; }
  // The Status object as sent (empty object when the body was not a Status).
  const nlohmann::json& status() const { return status_; }
  // Retry-After in seconds when the server sent one (429, 503).
  std::optional<std::chrono::seconds> retry_after;

 private:
  int code_;
  ApiReason reason_;
  nlohmann::json status_;
};

class NotFoundError : public ApiError {
  using ApiError::ApiError;
};
class ConflictError : public ApiError {
  using ApiError::ApiError;
};
class AlreadyExistsError : public ApiError {
  using ApiError::ApiError;
};
class InvalidError : public ApiError {
  using ApiError::ApiError;
};
class ExpiredError : public ApiError {
  using ApiError::ApiError;
};
class ForbiddenError : public ApiError {
  using ApiError::ApiError;
};
class UnauthorizedError : public ApiError {
  using ApiError::ApiError;
};
class TooManyRequestsError : public ApiError {
  using ApiError::ApiError;
};
class ServerError : public ApiError {
  using ApiError::ApiError;
};

// No HTTP answer: connection refused, TLS verification failed, timeout, stream broken.
// connect_failed says the request was certainly not sent (safe to retry any verb).
class TransportError : public std::runtime_error {
 public:
  TransportError(const std::string& message, bool connect_failed)
      : std::runtime_error(message), connect_failed_(connect_failed) {}
  bool connect_failed() const { return connect_failed_; }

 private:
  bool connect_failed_;
};

// A write refused before it was sent: the client's write budget (its Lease) is spent.
class FencedError : public TransportError {
 public:
  explicit FencedError(const std::string& message) : TransportError(message, false) {}
};

// Maps a non-2xx answer to its reason from the Status body when there is one, else from
// the HTTP code. `body` may be anything (HTML from a proxy, empty).
ApiReason reason_of(int code, const nlohmann::json& status);

// Throws the ApiError subclass for (code, body); retry_after_header is the raw header.
[[noreturn]] void throw_api_error(int code, const std::string& body,
                                  const std::string& retry_after_header = "");

// Same, from an already decoded Status object (a watch ERROR event).
[[noreturn]] void throw_status(const nlohmann::json& status);

const char* reason_name(ApiReason reason);

}  // namespace llmops::kube
