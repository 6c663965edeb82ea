// Turns chat messages into prompt tokens with the model's chat format: Llama-2
// ([INST] … [/INST], one BOS…EOS per exchange) or ChatML (<|im_start|>role … <|im_end|>),
// recognised from the GGUF's tokenizer.chat_template; otherwise a plain documented
// format ("User: …" / "Assistant: …" lines).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer.h"

namespace llmops::server {

enum class ChatFormat { Llama2, ChatML, Plain };
std::string_view chat_format_name(ChatFormat format);

// From a Jinja chat template as GGUF files carry it (empty: Plain).
ChatFormat detect_chat_format(std::string_view jinja_template);

struct ChatMessage {
  std::string role;  // system | user | assistant
  std::string content;
};

struct ChatPrompt {
  std::vector<int32_t> ids;          // starts with BOS
  std::vector<std::string> stop;     // stop strings the format needs
  std::vector<int32_t> stop_tokens;  // end-of-turn tokens besides EOS
};

// Throws std::invalid_argument for an unknown role or an empty message list.
ChatPrompt render_chat(ChatFormat format, const std::vector<ChatMessage>& messages,
                       const engine::Tokenizer& tokenizer);

}  // namespace llmops::server
