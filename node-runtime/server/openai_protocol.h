// The OpenAI wire format: request bodies of /v1/completions and /v1/chat/completions
// parsed and validated into generation parameters, and the response, stream-chunk and
// error bodies built from results. No I/O here.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "chat_template.h"
#include "engine/sequence.h"

namespace llmops::server {

// An error answered in OpenAI's shape {"error":{"message","type","param","code"}}.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string type = "invalid_request_error",
           std::string param = "", std::string code = "");
  int status() const { return status_; }
  nlohmann::json body() const;

 private:
  int status_;
  std::string type_, param_, code_;
};

struct CompletionRequest {
  bool chat = false;
  std::string model;  // empty when the client sent none
  bool stream = false;
  bool include_usage = false;         // stream_options.include_usage
  std::vector<int32_t> prompt_ids;    // /v1/completions given token ids
  std::string prompt;                 // /v1/completions given text
  std::vector<ChatMessage> messages;  // /v1/chat/completions
  engine::GenerationOptions options;  // max_tokens (-1 = until the context), stop, sampling
};

// Throws ApiError (400) naming the offending field. `default_seed` seeds requests
// without a seed (so that concurrent unseeded requests do not share one stream).
CompletionRequest parse_completion_request(std::string_view body, bool chat, uint64_t default_seed);

struct Usage {
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

// Builds the bodies of one response: its id and creation time are fixed at construction.
class CompletionFormatter {
 public:
  CompletionFormatter(bool chat, std::string model, std::string id);
  const std::string& id() const { return id_; }

  nlohmann::json complete(const std::string& text, std::string_view finish_reason,
                          const Usage& usage) const;
  nlohmann::json first_chunk() const;  // chat: the assistant role; completions: none
  nlohmann::json chunk(const std::string& text) const;
  nlohmann::json final_chunk(std::string_view finish_reason) const;
  nlohmann::json usage_chunk(const Usage& usage) const;

 private:
  nlohmann::json base(bool streaming) const;
  bool chat_;
  std::string model_;
  std::string id_;
  int64_t created_;
};

nlohmann::json models_list(const std::string& model, int64_t created);

}  // namespace llmops::server
