#include "router/proxy_server.h"

#include "llmops/api/runtime_headers.h"
#include "llmops/common/listen.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <coroutine>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace llmops::router {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using net::awaitable;
using net::use_awaitable;
using SteadyClock = std::chrono::steady_clock;

namespace {

using api::kDrainingHeader;
using api::kQueueDepthHeader;
using api::kRevisionHeader;
using api::kSessionHeader;

auto redirect(beast::error_code& ec) {
  return net::redirect_error(use_awaitable, ec);
}

std::string openai_error(const std::string& message, const std::string& type,
                         const nlohmann::json& param = nullptr,
                         const nlohmann::json& code = nullptr) {
  return nlohmann::json{
      {"error", {{"message", message}, {"type", type}, {"param", param}, {"code", code}}}}
      .dump();
}

// Headers that describe one connection, not the message; never forwarded.
bool hop_by_hop(beast::string_view name) {
  static const char* kNames[] = {"connection",
                                 "keep-alive",
                                 "proxy-connection",
                                 "te",
                                 "trailer",
                                 "transfer-encoding",
                                 "upgrade",
                                 "proxy-authenticate",
                                 "proxy-authorization",
                                 "content-length",
                                 "host"};
  for (const char* hop : kNames) {
    if (beast::iequals(name, hop)) return true;
  }
  return false;
}

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// Cancels a socket's operations when it expires; shared so that a late timer callback
// never touches a socket that is gone (the owner clears `socket` first).
struct Deadline : std::enable_shared_from_this<Deadline> {
  explicit Deadline(const net::any_io_executor& executor) : timer(executor) {}
  void arm(std::chrono::milliseconds after) {
    fired = false;
    timer.expires_after(after);
    timer.async_wait([self = weak_from_this()](beast::error_code ec) {
      auto deadline = self.lock();
      if (ec || !deadline || !deadline->socket) return;
      deadline->fired = true;
      beast::error_code ignored;
      deadline->socket->cancel(ignored);
    });
  }
  net::steady_timer timer;
  tcp::socket* socket = nullptr;
  bool fired = false;
};

std::shared_ptr<Deadline> make_deadline(const net::any_io_executor& executor) {
  return std::make_shared<Deadline>(executor);
}

// While a request is being proxied, reads the client socket to notice a hang-up (and
// keeps any pipelined bytes for the next request).
struct ClientWatch {
  explicit ClientWatch(const net::any_io_executor& executor) : exited_signal(executor) {
    exited_signal.expires_at(SteadyClock::time_point::max());
  }
  bool finished = false;
  bool gone = false;
  bool exited = false;
  tcp::socket* upstream = nullptr;
  net::steady_timer exited_signal;
};

// Idle keep-alive connections to pods, by address.
class UpstreamPool {
 public:
  explicit UpstreamPool(int max_per_endpoint) : max_per_endpoint_(max_per_endpoint) {}

  std::optional<tcp::socket> take(const std::string& address) {
    std::lock_guard lock(mutex_);
    auto it = idle_.find(address);
    if (it == idle_.end()) return std::nullopt;
    auto& list = it->second;
    while (!list.empty()) {
      Idle idle = std::move(list.back());
      list.pop_back();
      if (SteadyClock::now() - idle.since > std::chrono::seconds(50)) continue;
      // A pod that closed the connection while it idled shows EOF here; skip it.
      char probe;
      const auto n = ::recv(idle.socket.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return std::move(idle.socket);
    }
    return std::nullopt;
  }

  void give(const std::string& address, tcp::socket socket) {
    std::lock_guard lock(mutex_);
    auto& list = idle_[address];
    if (static_cast<int>(list.size()) < max_per_endpoint_) {
      list.push_back({std::move(socket), SteadyClock::now()});
    }
  }

  void clear() {
    std::lock_guard lock(mutex_);
    idle_.clear();
  }

 private:
  struct Idle {
    tcp::socket socket;
    SteadyClock::time_point since;
  };
  int max_per_endpoint_;
  std::mutex mutex_;
  std::map<std::string, std::vector<Idle>> idle_;
};

struct AttemptResult {
  enum class Kind { kDone, kRetryable, kClientGone };
  Kind kind = Kind::kDone;
  bool keep_client = true;
  bool canary_failure = false;
  bool timed_out = false;  // no response head within the first-byte timeout
  std::string error;
};

using Request = http::request<http::string_body>;

}  // namespace

struct ProxyServer::Impl {
  ProxyOptions options;
  RequestRouter& router;
  RouterMetrics& metrics;
  std::function<bool()> ready;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  UpstreamPool pool;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::atomic<int> active{0};
  uint16_t bound_port = 0;

  Impl(ProxyOptions o, RequestRouter& r, RouterMetrics& m, std::function<bool()> ready_fn)
      : options(std::move(o)),
        router(r),
        metrics(m),
        ready(std::move(ready_fn)),
        pool(options.max_idle_upstream_per_endpoint) {}

  awaitable<void> accept_loop() {
    for (;;) {
      beast::error_code ec;
      tcp::socket socket(net::make_strand(ioc));
      co_await acceptor.async_accept(socket, redirect(ec));
      if (stopping) co_return;
      if (ec) {
        if (ec == net::error::operation_aborted) co_return;
        spdlog::warn("event=accept_failed error=\"{}\"", ec.message());
        continue;
      }
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto executor = socket.get_executor();
      net::co_spawn(executor, session(std::move(socket)), net::detached);
    }
  }

  awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream client(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(options.body_limit_bytes);
      client.expires_after(options.client_idle_timeout);
      beast::error_code ec;
      co_await http::async_read(client, buffer, parser, redirect(ec));
      if (ec) {
        if (ec == http::error::body_limit) {
          co_await reply(client, 413,
                         openai_error("request body too large", "invalid_request_error"), false);
        } else if (parser.got_some() && ec != beast::error::timeout &&
                   ec != net::error::operation_aborted && ec != http::error::end_of_stream) {
          co_await reply(
              client, 400,
              openai_error("malformed HTTP request: " + ec.message(), "invalid_request_error"),
              false);
        }
        break;
      }
      Request request = parser.release();
      const bool keep_alive = request.keep_alive();
      const bool ok = co_await handle(client, buffer, request);
      if (!ok || !keep_alive || stopping) break;
    }
    beast::error_code ignored;
    client.socket().shutdown(tcp::socket::shutdown_send, ignored);
    client.close();
  }

  awaitable<bool> reply(beast::tcp_stream& client, int status, std::string body, bool keep_alive,
                        const char* content_type = "application/json",
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::response<http::string_body> response{static_cast<http::status>(status), 11};
    response.set(http::field::content_type, content_type);
    for (auto& [name, value] : headers) response.set(name, value);
    response.keep_alive(keep_alive);
    response.body() = std::move(body);
    response.prepare_payload();
    client.expires_after(options.client_idle_timeout);
    beast::error_code ec;
    co_await http::async_write(client, response, redirect(ec));
    co_return !ec;
  }

  awaitable<bool> handle(beast::tcp_stream& client, beast::flat_buffer& buffer, Request& request) {
    const std::string target(request.target());
    const std::string path = target.substr(0, target.find('?'));
    const bool keep = request.keep_alive();
    const bool get = request.method() == http::verb::get;
    if (get && path == "/healthz")
      co_return co_await reply(client, 200, "ok\n", keep, "text/plain");
    if (get && path == "/readyz") {
      const bool is_ready = ready();
      co_return co_await reply(client, is_ready ? 200 : 503, is_ready ? "ok\n" : "no routes yet\n",
                               keep, "text/plain");
    }
    if (get && path == "/metrics" && options.serve_metrics) {
      co_return co_await reply(client, 200, metrics.serialize(), keep, "text/plain; version=0.0.4");
    }
    if (get && path == "/v1/models") {
      nlohmann::json data = nlohmann::json::array();
      for (const auto& deployment : router.table()->deployments) {
        data.push_back({{"id", deployment.model},
                        {"object", "model"},
                        {"created", 0},
                        {"owned_by", "llmops"}});
      }
      co_return co_await reply(client, 200,
                               nlohmann::json{{"object", "list"}, {"data", data}}.dump(), keep,
                               "application/json", {{kRevisionHeader, "none"}});
    }
    if (path == "/v1/completions" || path == "/v1/chat/completions") {
      if (request.method() != http::verb::post) {
        co_return co_await reply(
            client, 405, openai_error("use POST for " + path, "invalid_request_error"), keep,
            "application/json", {{"Allow", "POST"}, {kRevisionHeader, "none"}});
      }
      co_return co_await proxy(client, buffer, request);
    }
    co_return co_await reply(
        client, 404,
        openai_error("Unknown request URL: " + std::string(request.method_string()) + " " + path,
                     "invalid_request_error"),
        keep, "application/json", {{kRevisionHeader, "none"}});
  }

  awaitable<void> watch_client(beast::tcp_stream& client, beast::flat_buffer& buffer,
                               std::shared_ptr<ClientWatch> watch) {
    for (;;) {
      beast::error_code ec;
      auto space = buffer.prepare(4096);
      const std::size_t n = co_await client.socket().async_read_some(space, redirect(ec));
      if (ec) {
        if (!watch->finished) {
          watch->gone = true;
          if (watch->upstream) {
            beast::error_code ignored;
            watch->upstream->cancel(ignored);
          }
        }
        break;
      }
      buffer.commit(n);
      if (watch->finished) break;
      if (buffer.size() > 1024 * 1024) break;  // a client pipelining this much is not hanging up
    }
    watch->exited = true;
    watch->exited_signal.cancel();
  }

  awaitable<bool> proxy(beast::tcp_stream& client, beast::flat_buffer& buffer, Request& request) {
    const auto started = SteadyClock::now();
    ++active;
    struct Done {
      std::atomic<int>& active;
      ~Done() { --active; }
    } done{active};
    const bool keep = request.keep_alive();
    nlohmann::json body = nlohmann::json::parse(request.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      metrics.count_response("", "", "none", 400);
      co_return co_await reply(
          client, 400,
          openai_error("the request body is not a JSON object", "invalid_request_error"), keep,
          "application/json", {{kRevisionHeader, "none"}});
    }
    if (!body.contains("model") || !body["model"].is_string()) {
      metrics.count_response("", "", "none", 400);
      co_return co_await reply(
          client, 400,
          openai_error("you must provide a model parameter", "invalid_request_error", "model"),
          keep, "application/json", {{kRevisionHeader, "none"}});
    }
    const std::string model = body["model"].get<std::string>();
    const auto table = router.table();
    const DeploymentRoute* deployment = table->find_model(model);
    if (!deployment) {
      metrics.count_response("", "", "none", 404);
      co_return co_await reply(client, 404,
                               openai_error("The model `" + model + "` does not exist",
                                            "invalid_request_error", "model", "model_not_found"),
                               keep, "application/json", {{kRevisionHeader, "none"}});
    }
    std::string session(request[kSessionHeader]);
    if (session.empty() && body.contains("user") && body["user"].is_string()) {
      session = body["user"].get<std::string>();
    }

    auto executor = co_await net::this_coro::executor;
    auto watch = std::make_shared<ClientWatch>(executor);
    net::co_spawn(executor, watch_client(client, buffer, watch), net::detached);

    const std::optional<int> stable = deployment->effective_stable();
    std::set<std::string> exclude;
    std::optional<int> retry_on;
    bool keep_client = keep;
    std::optional<AttemptResult> timed_out;  // the last attempt got no answer in time
    for (int attempt = 1;; ++attempt) {
      std::optional<Choice> choice;
      if (retry_on) choice = router.choose_in(*deployment, *retry_on, exclude);
      if (!choice) choice = router.choose(*deployment, session, exclude);
      if (!choice && timed_out) {
        metrics.count_response(deployment->ns, deployment->name, "none", 504);
        keep_client = co_await reply(
            client, 504,
            openai_error("the model server did not answer in time: " + timed_out->error,
                         "server_error", nullptr, "upstream_timeout"),
            keep, "application/json", {{kRevisionHeader, "none"}});
        break;
      }
      if (!choice) {
        metrics.count_response(deployment->ns, deployment->name, "none", 503);
        keep_client = co_await reply(
            client, 503,
            openai_error("no ready replica of model `" + model + "`; retry shortly", "server_error",
                         nullptr, "no_ready_replicas"),
            keep, "application/json", {{"Retry-After", "1"}, {kRevisionHeader, "none"}});
        break;
      }
      const bool may_retry = attempt < 2;
      AttemptResult result = co_await run_attempt(client, request, *deployment, *choice, stable,
                                                  watch, started, may_retry, keep);
      timed_out.reset();
      if (result.timed_out) timed_out = result;
      if (result.kind == AttemptResult::Kind::kRetryable && may_retry && !watch->gone) {
        metrics.revision(deployment->ns, deployment->name, std::to_string(choice->revision))
            .retries->Increment();
        exclude.insert(choice->endpoint.address());
        if (result.canary_failure && stable && *stable != choice->revision) retry_on = stable;
        spdlog::info("event=retry deployment={} revision={} pod={} reason=\"{}\"", deployment->name,
                     choice->revision, choice->endpoint.address(), result.error);
        continue;
      }
      if (result.kind == AttemptResult::Kind::kRetryable && !watch->gone) {
        const int code = result.timed_out ? 504 : 502;
        metrics.count_response(deployment->ns, deployment->name, std::to_string(choice->revision),
                               code);
        keep_client = co_await reply(
            client, code,
            openai_error(result.timed_out
                             ? "the model server did not answer in time: " + result.error
                             : "the model server failed: " + result.error,
                         "server_error", nullptr,
                         result.timed_out ? nlohmann::json("upstream_timeout") : nlohmann::json()),
            keep, "application/json", {{kRevisionHeader, std::to_string(choice->revision)}});
        break;
      }
      keep_client = result.keep_client && result.kind == AttemptResult::Kind::kDone;
      break;
    }
    watch->finished = true;
    if (!watch->exited) {
      beast::error_code ignored;
      client.socket().cancel(ignored);
      co_await watch->exited_signal.async_wait(redirect(ignored));
    }
    co_return keep_client && !watch->gone;
  }

  // Reads body bytes into `data` until some arrive or the body ends (0).
  awaitable<std::size_t> read_piece(tcp::socket& upstream, beast::flat_buffer& buffer,
                                    http::response_parser<http::buffer_body>& parser, char* data,
                                    std::size_t capacity, Deadline& deadline,
                                    beast::error_code& ec) {
    while (!parser.is_done()) {
      parser.get().body().data = data;
      parser.get().body().size = capacity;
      deadline.arm(options.upstream_idle_timeout);
      co_await http::async_read_some(upstream, buffer, parser, redirect(ec));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) co_return 0;
      const std::size_t n = capacity - parser.get().body().size;
      if (n > 0) co_return n;
    }
    co_return 0;
  }

  template <class Message>
  static void copy_headers(const http::response_header<>& from, Message& to, int revision) {
    for (const auto& field : from) {
      if (hop_by_hop(field.name_string())) continue;
      if (beast::iequals(field.name_string(), kRevisionHeader)) continue;
      to.insert(field.name_string(), field.value());
    }
    to.set(kRevisionHeader, std::to_string(revision));
  }

  awaitable<AttemptResult> run_attempt(beast::tcp_stream& client, const Request& request,
                                       const DeploymentRoute& deployment, const Choice& choice,
                                       std::optional<int> stable,
                                       const std::shared_ptr<ClientWatch>& watch,
                                       SteadyClock::time_point started, bool may_retry,
                                       bool client_keep_alive) {
    const std::string address = choice.endpoint.address();
    const std::string revision_label = std::to_string(choice.revision);
    RevisionMetrics& rm = metrics.revision(deployment.ns, deployment.name, revision_label);
    const bool canary = stable && *stable != choice.revision;
    router.balancer().request_started(address);
    rm.in_flight->Increment();
    struct Finish {
      RequestRouter& router;
      RevisionMetrics& rm;
      const std::string& address;
      ~Finish() {
        router.balancer().request_finished(address);
        rm.in_flight->Decrement();
      }
    } finish{router, rm, address};

    auto fail = [&](std::string reason) {
      metrics.count_upstream(rm, UpstreamOutcome::kError);
      if (router.balancer().report_failure(address)) {
        rm.ejections->Increment();
        spdlog::warn("event=endpoint_ejected deployment={} revision={} endpoint={} reason=\"{}\"",
                     deployment.name, choice.revision, address, reason);
      }
      AttemptResult result;
      result.kind = AttemptResult::Kind::kRetryable;
      result.canary_failure = canary;
      result.error = address + ": " + reason;
      return result;
    };
    auto client_gone = [] {
      AttemptResult result;
      result.kind = AttemptResult::Kind::kClientGone;
      result.keep_client = false;
      return result;
    };

    auto executor = co_await net::this_coro::executor;
    // A pooled connection the pod closed while it idled fails before any response byte:
    // not the pod's fault, so try once more on a new connection.
    for (int fresh = 0; fresh < 2; ++fresh) {
      std::optional<tcp::socket> pooled = fresh == 0 ? pool.take(address) : std::nullopt;
      const bool reused = pooled.has_value();
      tcp::socket upstream = reused ? std::move(*pooled) : tcp::socket(ioc);
      auto deadline = make_deadline(executor);
      deadline->socket = &upstream;
      watch->upstream = &upstream;
      struct Detach {
        std::shared_ptr<Deadline>& deadline;
        const std::shared_ptr<ClientWatch>& watch;
        ~Detach() {
          deadline->socket = nullptr;
          deadline->timer.cancel();
          watch->upstream = nullptr;
        }
      } detach{deadline, watch};
      beast::error_code ec;

      if (!reused) {
        tcp::endpoint endpoint;
        const auto ip = net::ip::make_address(choice.endpoint.host, ec);
        if (!ec) {
          endpoint = tcp::endpoint(ip, choice.endpoint.port);
        } else {
          tcp::resolver resolver(executor);
          auto results = co_await resolver.async_resolve(
              choice.endpoint.host, std::to_string(choice.endpoint.port), redirect(ec));
          if (ec || results.empty()) co_return fail("cannot resolve " + choice.endpoint.host);
          endpoint = *results.begin();
        }
        deadline->arm(options.connect_timeout);
        co_await upstream.async_connect(endpoint, redirect(ec));
        if (watch->gone) co_return client_gone();
        if (ec) co_return fail(deadline->fired ? "connect timed out" : "connect: " + ec.message());
        upstream.set_option(tcp::no_delay(true), ec);
      }

      Request forward{request.method(), request.target(), 11};
      for (const auto& field : request) {
        if (!hop_by_hop(field.name_string())) forward.insert(field.name_string(), field.value());
      }
      forward.set(http::field::host, address);
      forward.keep_alive(true);
      forward.body() = request.body();
      forward.prepare_payload();
      deadline->arm(options.upstream_idle_timeout);
      co_await http::async_write(upstream, forward, redirect(ec));
      if (watch->gone) co_return client_gone();
      if (ec) {
        if (reused) continue;
        co_return fail("sending the request: " + ec.message());
      }

      beast::flat_buffer upstream_buffer;
      http::response_parser<http::buffer_body> parser;
      parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      deadline->arm(options.first_byte_timeout);
      co_await http::async_read_header(upstream, upstream_buffer, parser, redirect(ec));
      if (watch->gone) co_return client_gone();
      if (ec) {
        if (deadline->fired) {
          AttemptResult result =
              fail("no response within " + std::to_string(options.first_byte_timeout.count()) +
                   " ms (--upstream-first-byte-timeout)");
          result.timed_out = true;
          co_return result;
        }
        if (reused && !parser.got_some()) continue;
        co_return fail("reading the response: " + ec.message());
      }
      auto& head = parser.get();
      const int status = head.result_int();
      const bool draining = status == 503 && head.find(kDrainingHeader) != head.end();
      if (auto depth = head.find(kQueueDepthHeader); depth != head.end()) {
        try {
          router.balancer().report_success(address, std::stoi(std::string(depth->value())));
        } catch (const std::exception&) {
        }
      }
      if (draining) {
        metrics.count_upstream(rm, UpstreamOutcome::kDraining);
        if (may_retry) {
          AttemptResult result;
          result.kind = AttemptResult::Kind::kRetryable;
          result.error = address + ": draining";
          co_return result;
        }
      } else if (status >= 500 && canary && may_retry) {
        co_return fail("status " + std::to_string(status));
      }

      const UpstreamOutcome outcome = draining        ? UpstreamOutcome::kDraining
                                      : status >= 500 ? UpstreamOutcome::kError
                                      : status >= 400 ? UpstreamOutcome::kClientError
                                                      : UpstreamOutcome::kSuccess;
      auto settle = [&] {
        if (outcome == UpstreamOutcome::kDraining) return;  // counted above
        metrics.count_upstream(rm, outcome);
        if (outcome == UpstreamOutcome::kError) {
          if (router.balancer().report_failure(address)) rm.ejections->Increment();
        } else {
          router.balancer().report_success(address, std::nullopt);
        }
      };

      std::array<char, 16384> data;
      const bool streaming = parser.chunked() || (!parser.content_length() && !parser.is_done());
      if (!streaming) {
        std::string body;
        while (!parser.is_done()) {
          const std::size_t n = co_await read_piece(upstream, upstream_buffer, parser, data.data(),
                                                    data.size(), *deadline, ec);
          if (watch->gone) co_return client_gone();
          if (ec) co_return fail("reading the response body: " + ec.message());
          body.append(data.data(), n);
        }
        http::response<http::string_body> response{head.result(), 11};
        copy_headers(head, response, choice.revision);
        response.keep_alive(client_keep_alive);
        response.body() = std::move(body);
        response.prepare_payload();
        client.expires_after(options.client_idle_timeout);
        beast::error_code write_error;
        co_await http::async_write(client, response, redirect(write_error));
        settle();
        rm.ttft->Observe(seconds_since(started));
        rm.duration->Observe(seconds_since(started));
        metrics.count_response(deployment.ns, deployment.name, revision_label, status);
        if (parser.keep_alive() && upstream_buffer.size() == 0) {
          pool.give(address, std::move(upstream));
        }
        AttemptResult result;
        result.keep_client = !write_error;
        co_return result;
      }

      // Streaming: hold the response until its first bytes, so that a pod that dies
      // before its first token is still retried; then pass chunks through as they come.
      std::size_t n = co_await read_piece(upstream, upstream_buffer, parser, data.data(),
                                          data.size(), *deadline, ec);
      if (watch->gone) co_return client_gone();
      if (ec) co_return fail("reading the first bytes: " + ec.message());
      http::response<http::empty_body> response{head.result(), 11};
      copy_headers(head, response, choice.revision);
      response.keep_alive(client_keep_alive);
      response.chunked(true);
      http::response_serializer<http::empty_body> serializer{response};
      beast::error_code write_error;
      client.expires_after(options.client_idle_timeout);
      co_await http::async_write_header(client, serializer, redirect(write_error));
      metrics.count_response(deployment.ns, deployment.name, revision_label, status);
      bool first = true;
      while (!write_error && n > 0) {
        client.expires_after(options.client_idle_timeout);
        co_await net::async_write(client, http::make_chunk(net::buffer(data.data(), n)),
                                  redirect(write_error));
        if (first) {
          rm.ttft->Observe(seconds_since(started));
          first = false;
        }
        if (write_error) break;
        n = co_await read_piece(upstream, upstream_buffer, parser, data.data(), data.size(),
                                *deadline, ec);
        if (ec) break;
      }
      if (write_error || watch->gone) {
        // The client went away mid-stream: closing the upstream connection tells the pod.
        settle();
        co_return client_gone();
      }
      if (ec) {
        // Bytes already reached the client: never replay; end the stream incomplete.
        metrics.count_upstream(rm, UpstreamOutcome::kError);
        if (router.balancer().report_failure(address)) rm.ejections->Increment();
        spdlog::warn("event=stream_broken deployment={} revision={} endpoint={} error=\"{}\"",
                     deployment.name, choice.revision, address, ec.message());
        AttemptResult result;
        result.keep_client = false;
        co_return result;
      }
      client.expires_after(options.client_idle_timeout);
      co_await net::async_write(client, http::make_chunk_last(), redirect(write_error));
      settle();
      rm.duration->Observe(seconds_since(started));
      if (parser.keep_alive() && upstream_buffer.size() == 0)
        pool.give(address, std::move(upstream));
      AttemptResult result;
      result.keep_client = !write_error;
      co_return result;
    }
    co_return fail("the connection closed before the response");
  }
};

ProxyServer::ProxyServer(ProxyOptions options, RequestRouter& router, RouterMetrics& metrics,
                         std::function<bool()> ready)
    : impl_(std::make_shared<Impl>(std::move(options), router, metrics, std::move(ready))) {}

ProxyServer::~ProxyServer() {
  stop();
}

void ProxyServer::start() {
  auto& impl = *impl_;
  impl.bound_port = llmops::http::listenOn(impl.acceptor, impl.options.address, impl.options.port);
  net::co_spawn(impl.ioc, impl.accept_loop(), net::detached);
  for (int i = 0; i < std::max(1, impl.options.threads); ++i) {
    impl.threads.emplace_back([&impl] { impl.ioc.run(); });
  }
}

uint16_t ProxyServer::port() const {
  return impl_->bound_port;
}

bool ProxyServer::drain(std::chrono::milliseconds timeout) {
  auto& impl = *impl_;
  net::post(impl.ioc, [&impl] {
    beast::error_code ignored;
    impl.acceptor.close(ignored);
  });
  const auto until = SteadyClock::now() + timeout;
  while (impl.active.load() > 0 && SteadyClock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return impl.active.load() == 0;
}

int ProxyServer::active_requests() const {
  return impl_->active.load();
}

void ProxyServer::stop() {
  auto& impl = *impl_;
  if (impl.stopping.exchange(true)) return;
  net::post(impl.ioc, [&impl] {
    beast::error_code ignored;
    impl.acceptor.close(ignored);
  });
  impl.ioc.stop();
  for (auto& thread : impl.threads) {
    if (thread.joinable()) thread.join();
  }
  impl.pool.clear();
}

}  // namespace llmops::router
