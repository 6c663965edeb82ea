#include "llmops/common/http_server.h"

#include "llmops/common/listen.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace llmops::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

std::string Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (beast::iequals(key, beast::string_view(name.data(), name.size()))) return value;
  }
  return {};
}

namespace {

Response defaultErrorResponse(int status, const std::string& message) {
  return Response{status, {{"Content-Type", "text/plain"}}, message + "\n"};
}

class Connection {
 public:
  virtual ~Connection() = default;
  virtual void close() = 0;
};

struct ConnectionRegistry {
  std::mutex mutex;
  std::set<std::weak_ptr<Connection>, std::owner_less<std::weak_ptr<Connection>>> connections;
};

template <class Stream>
class Session : public Connection, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  Session(Stream stream, const ServerOptions& options, const Handler& handler)
      : stream_(std::move(stream)), options_(options), handler_(handler) {}

  void run() {
    auto self = this->shared_from_this();
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
      stream_.async_handshake(net::ssl::stream_base::server, [self](beast::error_code ec) {
        if (ec) return self->doClose();
        self->doRead();
      });
    } else {
      net::dispatch(stream_.get_executor(), [self] { self->doRead(); });
    }
  }

  void close() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->doClose(); });
  }

  // All of the following run on the connection's strand.
  void send(uint64_t requestId, Response response) {
    if (closed_ || requestId != requestId_ || responded_) return;
    responded_ = true;
    auto message = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(response.status), 11);
    for (auto& [key, value] : response.headers) message->set(key, value);
    message->body() = std::move(response.body);
    message->keep_alive(keepAlive_);
    message->prepare_payload();
    auto self = this->shared_from_this();
    bhttp::async_write(stream_, *message, [self, message](beast::error_code ec, std::size_t) {
      if (!ec && self->drainBeforeClose_) return self->drainThenClose(0);
      if (ec || !self->keepAlive_) return self->doClose();
      self->doRead();
    });
  }

  void startStream(uint64_t requestId, int status, Headers headers) {
    if (closed_ || requestId != requestId_ || responded_) return;
    responded_ = true;
    streaming_ = true;
    beast::get_lowest_layer(stream_).expires_never();
    auto message = std::make_shared<bhttp::response<bhttp::empty_body>>(
        static_cast<bhttp::status>(status), 11);
    for (auto& [key, value] : headers) message->set(key, value);
    message->chunked(true);
    // The disconnect probe reads the socket while streaming, so the connection cannot
    // carry another request afterwards: say so, rather than let the client find out.
    message->keep_alive(false);
    auto serializer = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*message);
    writing_ = true;
    auto self = this->shared_from_this();
    bhttp::async_write_header(stream_, *serializer,
                              [self, message, serializer](beast::error_code ec, std::size_t) {
                                self->writing_ = false;
                                if (ec) return self->doClose();
                                self->watchForDisconnect();
                                self->writeNextChunk();
                              });
  }

  void queueChunk(uint64_t requestId, std::optional<std::string> chunk) {
    if (closed_ || requestId != requestId_ || !streaming_ || ended_) return;
    if (!chunk) ended_ = true;
    chunks_.push_back(std::move(chunk));
    writeNextChunk();
  }

  void addCloseCallback(std::function<void()> callback) {
    if (closed_) return callback();
    closeCallbacks_.push_back(std::move(callback));
  }

  void runAfter(std::chrono::milliseconds delay, std::function<void()> callback) {
    if (closed_) return;
    auto timer = std::make_shared<net::steady_timer>(stream_.get_executor(), delay);
    timers_.push_back(timer);
    auto self = this->shared_from_this();
    timer->async_wait([self, timer, callback = std::move(callback)](beast::error_code ec) {
      std::erase(self->timers_, timer);
      if (!ec && !self->closed_) callback();
    });
  }

  bool isClosed() const { return closed_; }
  net::any_io_executor executor() { return stream_.get_executor(); }
  uint64_t currentRequestId() const { return requestId_; }

 private:
  void doRead() {
    parser_.emplace();
    parser_->body_limit(options_.bodyLimitBytes);
    beast::get_lowest_layer(stream_).expires_after(options_.idleTimeout);
    auto self = this->shared_from_this();
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self](beast::error_code ec, std::size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted) {
      return doClose();
    }
    const auto& errorResponse =
        options_.errorResponse ? options_.errorResponse : defaultErrorResponse;
    if (ec) {
      const bool tooLarge = ec == bhttp::error::body_limit || ec == bhttp::error::header_limit;
      if (!tooLarge && !parser_->is_header_done() && buffer_.size() == 0) return doClose();
      keepAlive_ = false;
      // The client is still sending the body: read and drop it, so that it gets to
      // read our reply instead of a reset connection.
      drainBeforeClose_ = true;
      responded_ = false;
      ++requestId_;
      send(requestId_, tooLarge ? errorResponse(413, "request entity too large")
                                : errorResponse(400, "malformed HTTP request: " + ec.message()));
      return;
    }
    auto message = parser_->release();
    Request request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body());
    beast::error_code endpointError;
    auto endpoint = beast::get_lowest_layer(stream_).socket().remote_endpoint(endpointError);
    if (!endpointError) request.remoteAddress = endpoint.address().to_string();
    keepAlive_ = message.keep_alive();
    responded_ = false;
    ++requestId_;
    auto writer = makeWriter();
    try {
      handler_(request, writer);
    } catch (const std::exception& e) {
      send(requestId_, errorResponse(500, std::string("internal error: ") + e.what()));
    }
  }

  std::shared_ptr<ResponseWriter> makeWriter();

  void watchForDisconnect() {
    auto self = this->shared_from_this();
    stream_.async_read_some(net::buffer(probe_), [self](beast::error_code ec, std::size_t) {
      if (ec) return self->doClose();
      self->watchForDisconnect();  // a streaming client has nothing to say; ignore it
    });
  }

  void drainThenClose(std::size_t drained) {
    constexpr std::size_t kMaxDrainBytes = 64 * 1024 * 1024;
    if (drained > kMaxDrainBytes) return doClose();
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    auto self = this->shared_from_this();
    stream_.async_read_some(net::buffer(drain_),
                            [self, drained](beast::error_code ec, std::size_t n) {
                              if (ec) return self->doClose();
                              self->drainThenClose(drained + n);
                            });
  }

  void writeNextChunk() {
    if (writing_ || chunks_.empty() || closed_) return;
    writing_ = true;
    auto self = this->shared_from_this();
    if (!chunks_.front()) {
      net::async_write(stream_, bhttp::make_chunk_last(),
                       [self](beast::error_code, std::size_t) { self->doClose(); });
      return;
    }
    net::async_write(stream_, bhttp::make_chunk(net::buffer(*chunks_.front())),
                     [self](beast::error_code ec, std::size_t) {
                       self->writing_ = false;
                       self->chunks_.pop_front();
                       if (ec) return self->doClose();
                       self->writeNextChunk();
                     });
  }

  void doClose() {
    if (closed_) return;
    closed_ = true;
    for (auto& timer : timers_) timer->cancel();
    timers_.clear();
    beast::error_code ignored;
    auto& socket = beast::get_lowest_layer(stream_).socket();
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    auto callbacks = std::move(closeCallbacks_);
    for (auto& callback : callbacks) callback();
  }

  Stream stream_;
  const ServerOptions& options_;
  const Handler& handler_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::array<char, 64> probe_{};
  std::array<char, 16384> drain_{};
  bool drainBeforeClose_ = false;
  std::atomic<bool> closed_{false};
  bool keepAlive_ = true;
  bool responded_ = false;
  bool streaming_ = false;
  bool ended_ = false;
  bool writing_ = false;
  uint64_t requestId_ = 0;
  std::deque<std::optional<std::string>> chunks_;
  std::vector<std::function<void()>> closeCallbacks_;
  std::vector<std::shared_ptr<net::steady_timer>> timers_;
};

// Binds a writer to one request of a session, so a late call for an old request is
// ignored; every call hops onto the session's strand.
template <class Stream>
class SessionWriter : public ResponseWriter {
 public:
  SessionWriter(std::shared_ptr<Session<Stream>> session, uint64_t requestId)
      : session_(std::move(session)), requestId_(requestId) {}

  void send(Response response) override {
    post([response = std::move(response)](Session<Stream>& s, uint64_t id) mutable {
      s.send(id, std::move(response));
    });
  }
  void startStream(int status, Headers headers) override {
    post([status, headers = std::move(headers)](Session<Stream>& s, uint64_t id) mutable {
      s.startStream(id, status, std::move(headers));
    });
  }
  void writeChunk(std::string data) override {
    post([data = std::move(data)](Session<Stream>& s, uint64_t id) mutable {
      s.queueChunk(id, std::move(data));
    });
  }
  void endStream() override {
    post([](Session<Stream>& s, uint64_t id) { s.queueChunk(id, std::nullopt); });
  }
  bool closed() const override {
    return session_->isClosed() || session_->currentRequestId() != requestId_;
  }
  void onClose(std::function<void()> callback) override {
    post([callback = std::move(callback)](Session<Stream>& s, uint64_t) mutable {
      s.addCloseCallback(std::move(callback));
    });
  }
  void runAfter(std::chrono::milliseconds delay, std::function<void()> callback) override {
    post([delay, callback = std::move(callback)](Session<Stream>& s, uint64_t) mutable {
      s.runAfter(delay, std::move(callback));
    });
  }

 private:
  template <class F>
  void post(F&& f) {
    net::post(session_->executor(), [session = session_, id = requestId_,
                                     f = std::forward<F>(f)]() mutable { f(*session, id); });
  }
  std::shared_ptr<Session<Stream>> session_;
  uint64_t requestId_;
};

template <class Stream>
std::shared_ptr<ResponseWriter> Session<Stream>::makeWriter() {
  return std::make_shared<SessionWriter<Stream>>(this->shared_from_this(), requestId_);
}

}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  Handler handler;
  net::io_context ioc;
  std::optional<net::ssl::context> ssl;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  ConnectionRegistry registry;
  std::atomic<bool> stopping{false};
  uint16_t boundPort = 0;

  Impl(ServerOptions o, Handler h) : options(std::move(o)), handler(std::move(h)) {}

  void accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (stopping) return;
      if (!ec) {
        std::shared_ptr<Connection> connection;
        if (ssl) {
          auto session = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
              beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *ssl),
              options, handler);
          session->run();
          connection = session;
        } else {
          auto session = std::make_shared<Session<beast::tcp_stream>>(
              beast::tcp_stream(std::move(socket)), options, handler);
          session->run();
          connection = session;
        }
        std::lock_guard lock(registry.mutex);
        std::erase_if(registry.connections, [](const auto& weak) { return weak.expired(); });
        registry.connections.insert(connection);
      }
      accept();
    });
  }
};

HttpServer::HttpServer(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::start() {
  auto& impl = *impl_;
  if (impl.options.tls) {
    impl.ssl.emplace(net::ssl::context::tls_server);
    impl.ssl->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                          net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                          net::ssl::context::no_tlsv1_1);
    impl.ssl->use_certificate_chain_file(impl.options.tls->certificateChainPem);
    impl.ssl->use_private_key_file(impl.options.tls->privateKeyPem, net::ssl::context::pem);
    if (!impl.options.tls->clientCaPem.empty()) {
      impl.ssl->load_verify_file(impl.options.tls->clientCaPem);
      impl.ssl->set_verify_mode(net::ssl::verify_peer | net::ssl::verify_fail_if_no_peer_cert);
    }
  }
  impl.boundPort = listenOn(impl.acceptor, impl.options.address, impl.options.port);
  impl.accept();
  for (int i = 0; i < std::max(1, impl.options.threads); ++i) {
    impl.threads.emplace_back([&impl] { impl.ioc.run(); });
  }
}

uint16_t HttpServer::port() const {
  return impl_->boundPort;
}

void HttpServer::stop() {
  auto& impl = *impl_;
  if (impl.stopping.exchange(true)) return;
  net::post(impl.ioc, [&impl] {
    beast::error_code ignored;
    impl.acceptor.close(ignored);
  });
  {
    std::lock_guard lock(impl.registry.mutex);
    for (const auto& weak : impl.registry.connections) {
      if (auto connection = weak.lock()) connection->close();
    }
  }
  // Closing every connection lets run() return; stop() bounds the wait regardless.
  for (int i = 0; i < 200 && !impl.ioc.stopped(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  impl.ioc.stop();
  for (auto& thread : impl.threads) {
    if (thread.joinable()) thread.join();
  }
}

}  // namespace llmops::http
