// The router's front door: an HTTP/1.1 server (keep-alive, Asio coroutines) for the
// OpenAI API that proxies each completion to the pod the RequestRouter picks, streaming
// the response through as it arrives with backpressure, and retrying once elsewhere when
// an attempt fails before the client saw a byte. A client that hangs up has its upstream
// connection closed, so the pod stops generating.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "router/request_router.h"
#include "router/router_metrics.h"

namespace llmops::router {

struct ProxyOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 8080;  // 0 = a free port (see ProxyServer::port)
  int threads = 2;
  std::size_t body_limit_bytes = 8 * 1024 * 1024;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(3)};
  // No response head from the pod this long after the request was sent: the attempt failed
  // (counted against the pod, retried elsewhere, 504 when no pod answers). It covers the
  // whole of a non-streaming completion, which the runtime answers when it is done.
  std::chrono::milliseconds first_byte_timeout{std::chrono::seconds(30)};
  // No byte from the pod for this long, once the response started, ends the attempt.
  std::chrono::milliseconds upstream_idle_timeout{std::chrono::seconds(300)};
  // Keep-alive connections with no request, and clients that stop reading a stream.
  std::chrono::milliseconds client_idle_timeout{std::chrono::seconds(120)};
  int max_idle_upstream_per_endpoint = 32;
  bool serve_metrics = false;  // also answer GET /metrics on this port
};

class ProxyServer {
 public:
  ProxyServer(ProxyOptions options, RequestRouter& router, RouterMetrics& metrics,
              std::function<bool()> ready);
  ~ProxyServer();
  ProxyServer(const ProxyServer&) = delete;
  ProxyServer& operator=(const ProxyServer&) = delete;

  // Binds and starts the threads; throws std::runtime_error when it cannot listen.
  void start();
  uint16_t port() const;
  // Stops accepting and waits until in-flight requests finished or `timeout` passed;
  // false on timeout.
  bool drain(std::chrono::milliseconds timeout);
  int active_requests() const;
  // Closes every connection (in-flight streams end). Idempotent.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace llmops::router
