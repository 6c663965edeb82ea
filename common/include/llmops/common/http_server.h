// An asynchronous HTTP/1.1 server: keep-alive, many connections served by a small
// io_context thread pool, optional TLS, a request body limit, and streaming (chunked)
// responses that report when the client goes away. Handlers never see Asio types.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmops::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent
  Headers headers;
  std::string body;
  std::string remoteAddress;
  // Case-insensitive header lookup; empty when absent.
  std::string header(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
};

// Answers one request, either whole (send) or as a chunked stream
// (startStream, writeChunk..., endStream). Every method is thread-safe and may be called
// after the handler returned; calls after the connection closed are ignored.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual void send(Response response) = 0;
  virtual void startStream(int status, Headers headers) = 0;
  virtual void writeChunk(std::string data) = 0;
  // Ends the stream with the last chunk; the connection is then closed.
  virtual void endStream() = 0;
  virtual bool closed() const = 0;
  // Runs once when the connection closes for any reason (client gone, endStream, stop).
  virtual void onClose(std::function<void()> callback) = 0;
  // Runs callback on the connection's strand after delay, unless it closed before.
  virtual void runAfter(std::chrono::milliseconds delay, std::function<void()> callback) = 0;
};

using Handler = std::function<void(const Request&, std::shared_ptr<ResponseWriter>)>;

struct TlsFiles {
  std::string certificateChainPem;  // file paths
  std::string privateKeyPem;
  // When set, clients must present a certificate this CA bundle verifies (mutual TLS);
  // the handshake fails otherwise.
  std::string clientCaPem;
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0 picks a free port; see HttpServer::port()
  int threads = 2;
  std::size_t bodyLimitBytes = 3 * 1024 * 1024;  // larger bodies get 413
  std::chrono::seconds idleTimeout{120};         // idle keep-alive connections close
  std::optional<TlsFiles> tls;                   // HTTPS when set
  // Formats the replies the server itself makes (413 too large, 400 unparsable, 500 when
  // a handler throws); plain text when unset.
  std::function<Response(int status, const std::string& message)> errorResponse;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the threads; throws std::runtime_error when it cannot listen.
  void start();
  uint16_t port() const;
  // Stops accepting, closes connections and joins the threads. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmops::http
