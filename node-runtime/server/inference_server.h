// The runtime's HTTP API: OpenAI-compatible completions and chat completions (whole or
// streamed as Server-Sent Events), /v1/models, /healthz, /readyz and /metrics, with API
// key checks, admission (429), fault injection and the drain states.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "batch_scheduler.h"
#include "chat_template.h"
#include "engine/model.h"
#include "engine/tokenizer.h"
#include "llmops/common/http_server.h"
#include "runtime_metrics.h"

namespace llmops::server {

struct InferenceServerOptions {
  std::string model_name;
  std::string api_key;             // empty: no authentication
  double inject_error_rate = 0.0;  // fraction of API requests answered 500 (chaos tests)
  // The model's Jinja chat template (GGUF tokenizer.chat_template or serve
  // --chat-template); null: the built-in chat_format, for models without one.
  std::shared_ptr<const ChatTemplate> chat_template;
  ChatFormat chat_format = ChatFormat::Plain;
};

class InferenceServer {
 public:
  // Drain states: Serving → LameDuck (readyz 503, requests still served) → Draining (new
  // requests 503 with x-llmops-draining: 1; running ones finish).
  enum class State { Loading, Serving, LameDuck, Draining };

  InferenceServer(const engine::Model& model, const engine::Tokenizer& tokenizer,
                  BatchScheduler& scheduler, RuntimeMetrics& metrics,
                  InferenceServerOptions options);

  void handle(const http::Request& request, std::shared_ptr<http::ResponseWriter> writer);
  void set_state(State state) { state_.store(state); }
  State state() const { return state_.load(); }
  int in_flight() const { return in_flight_.load(); }

 private:
  class Exchange;
  void handle_completion(const http::Request& request, std::shared_ptr<http::ResponseWriter> writer,
                         bool chat);
  void reply_error(const std::shared_ptr<http::ResponseWriter>& writer, int status,
                   const std::string& body, http::Headers headers,
                   std::chrono::steady_clock::time_point start);
  bool authorized(const http::Request& request) const;
  std::string next_request_id();

  [[maybe_unused]] const engine::Model& model_;
  const engine::Tokenizer& tokenizer_;
  PromptTokenizer prompt_tokenizer_;
  BatchScheduler& scheduler_;
  RuntimeMetrics& metrics_;
  InferenceServerOptions options_;
  std::atomic<State> state_{State::Loading};
  std::atomic<int> in_flight_{0};
  std::atomic<uint64_t> request_counter_{0};
  std::mutex random_mutex_;
  std::mt19937_64 random_;
  int64_t created_;
};

}  // namespace llmops::server
