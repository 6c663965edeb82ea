// libFuzzer target for the OpenAI request bodies the runtime accepts from any client:
// parse_completion_request may only answer with ApiError 4xx (a JSON error naming the
// field); and what it accepts must be formattable into a response. The first byte picks
// chat or completions.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/openai_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using llmops::server::ApiError;
  const bool chat = (data[0] & 1) != 0;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    const auto request = llmops::server::parse_completion_request(body, chat, 42);
    if (request.options.max_tokens < -1) __builtin_trap();
    for (int32_t id : request.prompt_ids) {
      if (id < 0) __builtin_trap();  // ids outside 0..2^31-1 are refused, never wrapped
    }
    llmops::server::CompletionFormatter formatter(chat, request.model, "id");
    (void)formatter.complete("text", "stop", {1, 1}).dump();
  } catch (const ApiError& error) {
    if (error.status() < 400 || error.status() >= 500) __builtin_trap();
    (void)error.body().dump();
  }
  return 0;
}
