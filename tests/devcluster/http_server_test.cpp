#include "llmops/common/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

namespace llmops::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.bodyLimitBytes = 1024;
    server_ = std::make_unique<HttpServer>(
        options, [this](const Request& request, std::shared_ptr<ResponseWriter> writer) {
          if (request.target == "/stream") {
            writer->onClose([this] { streamClosed_ = true; });
            writer->startStream(200, {{"Content-Type", "application/json"}});
            writer->writeChunk("{\"n\":1}\n");
            writer->runAfter(std::chrono::milliseconds(50),
                             [writer] { writer->writeChunk("{\"n\":2}\n"); });
            if (request.body == "end") {
              writer->runAfter(std::chrono::milliseconds(100), [writer] { writer->endStream(); });
            }
            return;
          }
          if (request.target == "/later") {
            std::thread([writer] {
              std::this_thread::sleep_for(std::chrono::milliseconds(20));
              writer->send({202, {}, "later"});
            }).detach();
            return;
          }
          if (request.target == "/throw") throw std::runtime_error("boom");
          writer->send({200,
                        {{"X-Method", request.method}},
                        "echo:" + request.body + ":" + request.header("x-test")});
        });
    server_->start();
  }
  void TearDown() override { server_->stop(); }

  beast::tcp_stream connect() {
    beast::tcp_stream stream(ioc_);
    stream.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    return stream;
  }

  bhttp::response<bhttp::string_body> roundTrip(beast::tcp_stream& stream,
                                                const std::string& target,
                                                const std::string& body = "") {
    bhttp::request<bhttp::string_body> request(bhttp::verb::post, target, 11);
    request.set("X-Test", "yes");
    request.body() = body;
    request.prepare_payload();
    bhttp::write(stream, request);
    bhttp::response<bhttp::string_body> response;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    bhttp::read(stream, buffer_, parser);
    return parser.release();
  }

  net::io_context ioc_;
  beast::flat_buffer buffer_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<bool> streamClosed_{false};
};

TEST_F(HttpServerTest, ServesSeveralRequestsOnOneConnection) {
  auto stream = connect();
  auto first = roundTrip(stream, "/a", "one");
  EXPECT_EQ(first.result_int(), 200);
  EXPECT_EQ(first.body(), "echo:one:yes");
  EXPECT_EQ(first["X-Method"], "POST");
  auto second = roundTrip(stream, "/later");
  EXPECT_EQ(second.result_int(), 202);
  EXPECT_EQ(second.body(), "later");
}

TEST_F(HttpServerTest, RefusesBodiesOverTheLimit) {
  auto stream = connect();
  auto response = roundTrip(stream, "/a", std::string(100000, 'x'));
  EXPECT_EQ(response.result_int(), 413);
}

TEST_F(HttpServerTest, AnswersAThrowingHandlerWith500) {
  auto stream = connect();
  EXPECT_EQ(roundTrip(stream, "/throw").result_int(), 500);
}

TEST_F(HttpServerTest, StreamsChunksUntilTheEnd) {
  auto stream = connect();
  auto response = roundTrip(stream, "/stream", "end");
  EXPECT_EQ(response.body(), "{\"n\":1}\n{\"n\":2}\n");
  for (int i = 0; i < 100 && !streamClosed_; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(streamClosed_);
}

TEST_F(HttpServerTest, ReportsAClientThatLeavesAStream) {
  {
    auto stream = connect();
    bhttp::request<bhttp::string_body> request(bhttp::verb::get, "/stream", 11);
    bhttp::write(stream, request);
    bhttp::response_parser<bhttp::buffer_body> parser;
    bhttp::read_header(stream, buffer_, parser);
    EXPECT_EQ(parser.get().result_int(), 200);
    EXPECT_FALSE(streamClosed_);
  }  // the client disconnects
  for (int i = 0; i < 300 && !streamClosed_; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(streamClosed_);
}

}  // namespace
}  // namespace llmops::http
