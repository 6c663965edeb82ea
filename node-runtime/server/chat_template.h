// Turns chat messages into prompt tokens. A model with a tokenizer.chat_template has it
// executed by our Jinja interpreter (ChatTemplate); a model without one gets the plain
// documented format ("User: …" / "Assistant: …" lines), or the built-in format `serve
// --chat-format` names: Llama-2 ([INST] … [/INST], one BOS…EOS per exchange) or ChatML
// (<|im_start|>role … <|im_end|>).
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer.h"
#include "jinja_template.h"
#include "prompt_tokenizer.h"

namespace llmops::server {

enum class ChatFormat { Llama2, ChatML, Plain };
std::string_view chat_format_name(ChatFormat format);

// A built-in format by name (llama2, chatml, plain), as `serve --chat-format` takes it;
// nullopt for any other name.
std::optional<ChatFormat> parse_chat_format(std::string_view name);

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

// The model's Jinja template could not render a request (its syntax, raise_exception, a
// type error, a limit): a client error, answered 400 with this message.
class ChatTemplateError : public std::runtime_error {
 public:
  explicit ChatTemplateError(const std::string& message) : std::runtime_error(message) {}
};

// What a chat template is rendered with, as transformers' apply_chat_template passes it.
struct ChatInputs {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();  // from the request
  nlohmann::ordered_json tools;                                       // null: no "tools" variable
  nlohmann::ordered_json extra_variables =
      nlohmann::ordered_json::object();  // e.g. enable_thinking
  bool add_generation_prompt = true;
  std::string bos_token;  // the template's own (not from the request)
  std::string eos_token;
  std::function<std::time_t()> now;  // strftime_now's clock; default: the system clock
};

// A model's tokenizer.chat_template, parsed once. A template that does not parse is kept
// with its error: every render then fails with it (the server answers 400 naming it).
class ChatTemplate {
 public:
  explicit ChatTemplate(std::string_view source, const jinja::RenderLimits& limits = {});

  bool ok() const { return template_ != nullptr; }
  const std::string& error() const { return error_; }  // the syntax error, when !ok()

  // The rendered prompt; bytes from messages/tools/extra variables are marked as from
  // the request. Throws ChatTemplateError.
  jinja::Text render(const ChatInputs& inputs) const;

 private:
  std::shared_ptr<const jinja::Template> template_;
  std::string error_;
  jinja::RenderLimits limits_;
};

// Renders `messages` with the template (bos/eos tokens from the vocabulary) and tokenizes
// the prompt: the template's text with special tokens recognised, the request's as plain
// text; stop tokens: the vocabulary's end-of-turn tokens. Throws ChatTemplateError.
ChatPrompt render_chat(const ChatTemplate& chat_template, const std::vector<ChatMessage>& messages,
                       const PromptTokenizer& tokenizer);

// The template variables bos_token / eos_token: the vocabulary's BOS and EOS pieces.
std::string token_text(const engine::Tokenizer& tokenizer, int32_t id);

}  // namespace llmops::server
