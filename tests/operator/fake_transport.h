// Test doubles for the seams under the Kubernetes client: a transport answering from a
// function and recording every request, and a clock the test moves by hand.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "llmops/kube/clock.h"
#include "llmops/kube/http_transport.h"

namespace llmops::kube::testing {

class FakeTransport : public HttpTransport {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  explicit FakeTransport(Handler handler) : handler_(std::move(handler)) {}

  HttpResponse send(const HttpRequest& request) override {
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    return handler_(request);
  }
  // Delivers the handler's body to on_data one byte at a time: the worst chunking.
  HttpResponse stream(const HttpRequest& request,
                      const std::function<void(std::string_view)>& on_data,
                      const std::function<bool()>& keep_going) override {
    HttpResponse response = send(request);
    if (response.status < 200 || response.status >= 300) return response;
    for (char c : response.body) {
      if (!keep_going()) break;
      on_data(std::string_view(&c, 1));
    }
    response.body.clear();
    return response;
  }
  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  Handler handler_;
  mutable std::mutex mutex_;
  std::vector<HttpRequest> requests_;
};

class ManualClock : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override { return steady_; }
  std::chrono::system_clock::time_point wall_now() const override { return wall_; }
  void advance(std::chrono::nanoseconds span) {
    steady_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(span);
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(span);
  }

 private:
  std::chrono::steady_clock::time_point steady_{std::chrono::hours(1000)};
  std::chrono::system_clock::time_point wall_{std::chrono::seconds(1790000000)};
};

inline HttpResponse json_response(int status, const std::string& body) {
  return HttpResponse{status, {{"Content-Type", "application/json"}}, body};
}

inline std::string status_body(int code, const std::string& reason, const std::string& message) {
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")" +
         message + R"(","reason":")" + reason + R"(","code":)" + std::to_string(code) + "}";
}

}  // namespace llmops::kube::testing
