#include "inference_server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>

#include "llmops/api/runtime_headers.h"
#include "llmops/common/token_compare.h"
#include "openai_protocol.h"

namespace llmops::server {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const http::Headers kJson = {{"Content-Type", "application/json"}};

std::string path_of(const std::string& target) {
  return target.substr(0, target.find('?'));
}

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string sse(const json& event) {
  return "data: " + event.dump() + "\n\n";
}

}  // namespace

// One accepted completion: receives the scheduler's callbacks and answers the client,
// whole or as a stream.
class InferenceServer::Exchange : public SequenceObserver {
 public:
  Exchange(InferenceServer& server, std::shared_ptr<http::ResponseWriter> writer, bool chat,
           CompletionFormatter formatter, bool stream, bool include_usage, Clock::time_point start)
      : server_(server),
        writer_(std::move(writer)),
        formatter_(std::move(formatter)),
        chat_(chat),
        stream_(stream),
        include_usage_(include_usage),
        start_(start) {}

  // Sends the stream's headers (and chat's role chunk) once, whoever comes first: the
  // handler after admission or the engine thread with the first text.
  void begin_stream() {
    std::lock_guard lock(mutex_);
    if (started_) return;
    started_ = true;
    writer_->startStream(200, {{"Content-Type", "text/event-stream"},
                               {"Cache-Control", "no-cache"},
                               {"x-request-id", formatter_.id()},
                               queue_depth_header()});
    if (chat_) writer_->writeChunk(sse(formatter_.first_chunk()));
  }

  // A stream's headers go out when its sequence joins the batch, not while it waits in the
  // queue: a queued request refused by a drain can still be answered 503 + draining.
  void on_start() override {
    if (stream_) begin_stream();
  }

  void on_text(std::string_view text) override {
    if (stream_) {
      begin_stream();
      writer_->writeChunk(sse(formatter_.chunk(std::string(text))));
    } else {
      text_.append(text);
    }
  }

  // Once: a stream is in flight until its connection closes (its last chunk is out), a
  // whole response until it is handed over. Either path may come first.
  void release() {
    if (!released_->exchange(true)) --server_.in_flight_;
  }
  // Shared with the connection's close callback (which must not hold the Exchange: the
  // Exchange holds the connection's writer).
  const std::shared_ptr<std::atomic<bool>>& released() const { return released_; }

  void on_finish(const SequenceResult& r) override {
    int code = 200;
    std::string outcome = "ok";
    const Usage usage{r.prompt_tokens, r.completion_tokens};
    std::string finish(engine::finish_reason_name(r.finish));
    bool started;
    {
      std::lock_guard lock(mutex_);
      started = started_;
    }
    if (r.refused || (r.shutdown && !started)) {
      // Nothing was sent: refuse with the draining header, so that a router retries it on
      // another replica at once.
      code = 503;
      outcome = "draining";
      writer_->send(
          {503,
           {kJson.front(), {api::kDrainingHeader, "1"}, {"Retry-After", "1"}},
           ApiError(503, "the server is draining; retry on another replica", "server_error")
               .body()
               .dump()});
      finish = "none";
      log_and_count(r, code, finish, outcome);
      release();
      return;
    }
    if (stream_) begin_stream();
    if (r.shutdown) {
      // The drain deadline cut a running stream: say so in-band (a finish_reason, then an
      // error event, then [DONE]) so that a client can tell it was cut off.
      code = 503;
      outcome = "cut_at_drain_deadline";
      finish = "abort";
      writer_->writeChunk(sse(formatter_.final_chunk(finish)));
      writer_->writeChunk(
          sse(ApiError(503,
                       "the server shut down before the completion finished (drain deadline); "
                       "the text so far is incomplete",
                       "server_error", "", "server_shutdown")
                  .body()));
      writer_->writeChunk("data: [DONE]\n\n");
      writer_->endStream();
      log_and_count(r, code, finish, outcome);
      return;
    }
    if (!r.error.empty()) {
      code = 500;
      outcome = "error";
      const ApiError error(500, r.error, "server_error");
      if (stream_) {
        writer_->writeChunk(sse(error.body()));
        writer_->writeChunk("data: [DONE]\n\n");
        writer_->endStream();
      } else {
        writer_->send({500, kJson, error.body().dump()});
      }
    } else if (r.cancelled) {
      code = 499;  // client closed request (nginx's convention)
      outcome = "cancelled";
      if (stream_) {
        writer_->endStream();
      } else {
        writer_->send({503, kJson,
                       ApiError(503, "the server is shutting down", "server_error").body().dump()});
      }
    } else if (stream_) {
      writer_->writeChunk(sse(formatter_.final_chunk(finish)));
      if (include_usage_) writer_->writeChunk(sse(formatter_.usage_chunk(usage)));
      writer_->writeChunk("data: [DONE]\n\n");
      writer_->endStream();
    } else {
      writer_->send({200,
                     {kJson.front(), queue_depth_header()},
                     formatter_.complete(text_, finish, usage).dump()});
    }
    log_and_count(r, code, finish, outcome);
    // A stream stays in flight until its connection closes, i.e. its last chunk is out.
    if (!stream_) release();
  }

 private:
  void log_and_count(const SequenceResult& r, int code, const std::string& finish,
                     const std::string& outcome) {
    server_.metrics_.on_request(code, since(start_));
    server_.metrics_.on_tokens(r.prompt_tokens, r.completion_tokens);
    spdlog::info(
        "request id={} model={} prompt_tokens={} completion_tokens={} queue_s={:.4f} "
        "ttft_s={:.4f} duration_s={:.4f} finish={} outcome={}",
        formatter_.id(), server_.options_.model_name, r.prompt_tokens, r.completion_tokens,
        r.queue_seconds, r.ttft_seconds, r.duration_seconds, finish, outcome);
  }

  // Requests waiting for a batch slot, so that a router can prefer the shorter queue.
  std::pair<std::string, std::string> queue_depth_header() const {
    return {api::kQueueDepthHeader, std::to_string(server_.scheduler_.stats().queued)};
  }

  InferenceServer& server_;
  std::shared_ptr<http::ResponseWriter> writer_;
  CompletionFormatter formatter_;
  std::mutex mutex_;
  std::shared_ptr<std::atomic<bool>> released_ = std::make_shared<std::atomic<bool>>(false);
  bool started_ = false;
  bool chat_;
  bool stream_;
  bool include_usage_;
  Clock::time_point start_;
  std::string text_;
};

InferenceServer::InferenceServer(const engine::Model& model, const engine::Tokenizer& tokenizer,
                                 BatchScheduler& scheduler, RuntimeMetrics& metrics,
                                 InferenceServerOptions options)
    : model_(model),
      tokenizer_(tokenizer),
      prompt_tokenizer_(tokenizer),
      scheduler_(scheduler),
      metrics_(metrics),
      options_(std::move(options)),
      random_(std::random_device{}()),
      created_(std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count()) {}

std::string InferenceServer::next_request_id() {
  char buf[40];
  uint64_t r;
  {
    std::lock_guard lock(random_mutex_);
    r = random_();
  }
  std::snprintf(buf, sizeof buf, "%012llx%04llx", static_cast<unsigned long long>(r >> 16),
                static_cast<unsigned long long>(++request_counter_ & 0xffff));
  return buf;
}

bool InferenceServer::authorized(const http::Request& request) const {
  if (options_.api_key.empty()) return true;
  return bearer_token_matches(request.header("Authorization"), options_.api_key);
}

void InferenceServer::reply_error(const std::shared_ptr<http::ResponseWriter>& writer, int status,
                                  const std::string& body, http::Headers headers,
                                  Clock::time_point start) {
  headers.insert(headers.begin(), kJson.begin(), kJson.end());
  writer->send({status, std::move(headers), body});
  metrics_.on_request(status, since(start));
}

void InferenceServer::handle(const http::Request& request,
                             std::shared_ptr<http::ResponseWriter> writer) {
  const std::string path = path_of(request.target);
  const State state = state_.load();
  if (path == "/healthz") {
    writer->send({200, {{"Content-Type", "text/plain"}}, "ok\n"});
    return;
  }
  if (path == "/readyz") {
    const bool ready = state == State::Serving;
    writer->send({ready ? 200 : 503,
                  {{"Content-Type", "text/plain"}},
                  ready ? "ok\n" : (state == State::Loading ? "loading\n" : "draining\n")});
    return;
  }
  if (path == "/metrics") {
    writer->send({200,
                  {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}},
                  metrics_.text(scheduler_.stats(), state == State::Serving)});
    return;
  }
  const auto start = Clock::now();
  if (path.rfind("/v1/", 0) != 0) {
    writer->send(
        {404, kJson, ApiError(404, "unknown path " + path, "invalid_request_error").body().dump()});
    return;
  }
  if (!authorized(request)) {
    reply_error(
        writer, 401,
        ApiError(401, "invalid or missing API key", "invalid_request_error", "", "invalid_api_key")
            .body()
            .dump(),
        {{"WWW-Authenticate", "Bearer"}}, start);
    return;
  }
  if (path == "/v1/models") {
    if (request.method != "GET") {
      reply_error(writer, 405, ApiError(405, "use GET for /v1/models").body().dump(),
                  {{"Allow", "GET"}}, start);
      return;
    }
    writer->send({200, kJson, models_list(options_.model_name, created_).dump()});
    return;
  }
  if (path == "/v1/completions" || path == "/v1/chat/completions") {
    if (request.method != "POST") {
      reply_error(writer, 405, ApiError(405, "use POST for " + path).body().dump(),
                  {{"Allow", "POST"}}, start);
      return;
    }
    handle_completion(request, std::move(writer), path == "/v1/chat/completions");
    return;
  }
  reply_error(writer, 404, ApiError(404, "unknown path " + path).body().dump(), {}, start);
}

void InferenceServer::handle_completion(const http::Request& request,
                                        std::shared_ptr<http::ResponseWriter> writer, bool chat) {
  const auto start = Clock::now();
  if (state_.load() == State::Draining) {
    reply_error(writer, 503,
                ApiError(503, "the server is draining; retry on another replica", "server_error")
                    .body()
                    .dump(),
                {{api::kDrainingHeader, "1"}, {"Retry-After", "1"}}, start);
    return;
  }
  if (state_.load() == State::Loading) {
    reply_error(writer, 503, ApiError(503, "the model is loading", "server_error").body().dump(),
                {{"Retry-After", "1"}}, start);
    return;
  }
  uint64_t seed;
  double dice;
  {
    std::lock_guard lock(random_mutex_);
    seed = random_();
    dice = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  }
  try {
    CompletionRequest r = parse_completion_request(request.body, chat, seed);
    if (!r.model.empty() && r.model != options_.model_name) {
      throw ApiError(404,
                     "the model '" + r.model + "' does not exist; this server serves '" +
                         options_.model_name + "'",
                     "invalid_request_error", "model", "model_not_found");
    }
    if (dice < options_.inject_error_rate) {
      throw ApiError(500, "injected failure (--inject-error-rate)", "server_error");
    }

    std::vector<int32_t> prompt_ids;
    if (chat) {
      ChatPrompt prompt;
      if (options_.chat_template) {
        try {
          prompt = render_chat(*options_.chat_template, r.messages, prompt_tokenizer_);
        } catch (const ChatTemplateError& e) {
          throw ApiError(400, e.what(), "invalid_request_error", "messages", "chat_template_error");
        }
      } else {
        prompt = render_chat(options_.chat_format, r.messages, tokenizer_);
      }
      prompt_ids = std::move(prompt.ids);
      r.options.stop.insert(r.options.stop.end(), prompt.stop.begin(), prompt.stop.end());
      r.options.stop_tokens = std::move(prompt.stop_tokens);
    } else if (!r.prompt_ids.empty()) {
      for (int32_t id : r.prompt_ids) {
        if (id < 0 || id >= static_cast<int32_t>(tokenizer_.size())) {
          throw ApiError(400,
                         "prompt token id " + std::to_string(id) +
                             " is outside the vocabulary of " + std::to_string(tokenizer_.size()),
                         "invalid_request_error", "prompt");
        }
      }
      if (tokenizer_.add_bos() && r.prompt_ids.front() != tokenizer_.bos()) {
        prompt_ids.push_back(tokenizer_.bos());
      }
      prompt_ids.insert(prompt_ids.end(), r.prompt_ids.begin(), r.prompt_ids.end());
    } else {
      prompt_ids = tokenizer_.encode_prompt(r.prompt);
    }
    if (prompt_ids.empty()) {
      throw ApiError(400, "the prompt is empty and this model adds no BOS token to start from",
                     "invalid_request_error", chat ? "messages" : "prompt");
    }
    const int context = scheduler_.context();
    if (static_cast<int>(prompt_ids.size()) > context) {
      throw ApiError(
          400,
          "this model's maximum context length is " + std::to_string(context) +
              " tokens, but the prompt has " + std::to_string(prompt_ids.size()) + " tokens",
          "invalid_request_error", chat ? "messages" : "prompt", "context_length_exceeded");
    }
    // -1 (chat's default) and anything beyond the context: until the context is full.
    if (r.options.max_tokens < 0 || r.options.max_tokens > context) r.options.max_tokens = context;

    const std::string model = r.model.empty() ? options_.model_name : r.model;
    auto exchange = std::make_shared<Exchange>(
        *this, writer, chat,
        CompletionFormatter(chat, model, (chat ? "chatcmpl-" : "cmpl-") + next_request_id()),
        r.stream, r.include_usage, start);
    auto handle = std::make_shared<SequenceHandle>();
    ++in_flight_;
    const auto admission = scheduler_.submit(std::move(prompt_ids), r.options, exchange, handle);
    if (admission != BatchScheduler::Admission::Accepted) {
      --in_flight_;
      if (admission == BatchScheduler::Admission::QueueFull) {
        const ApiError error(429, "too many requests queued; retry later", "rate_limit_error", "",
                             "rate_limit_exceeded");
        reply_error(writer, error.status(), error.body().dump(), {{"Retry-After", "1"}}, start);
      } else {  // draining or stopped: another replica can take it
        reply_error(
            writer, 503,
            ApiError(503, "the server is draining; retry on another replica", "server_error")
                .body()
                .dump(),
            {{api::kDrainingHeader, "1"}, {"Retry-After", "1"}}, start);
      }
      return;
    }
    // A client that hangs up cancels its sequence; its KV cache is freed at the next step.
    writer->onClose([this, handle, released = exchange->released(), stream = r.stream] {
      handle->cancel();
      if (stream && !released->exchange(true)) --in_flight_;
    });
  } catch (const ApiError& e) {
    reply_error(writer, e.status(), e.body().dump(), {}, start);
  } catch (const std::invalid_argument& e) {
    reply_error(writer, 400, ApiError(400, e.what()).body().dump(), {}, start);
  }
}

}  // namespace llmops::server
