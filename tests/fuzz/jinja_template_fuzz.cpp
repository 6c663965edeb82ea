// Fuzzes the chat-template engine: the input is a template, optionally followed by a NUL
// byte and text used as a message's content. Parsing and rendering (with small limits)
// must either succeed or throw TemplateError: never crash, hang, leak or throw anything
// else. When it renders: rendering is deterministic, the runs of the output put together
// are the output, and prompt tokenization recognises special tokens only in the
// template's own bytes (a prompt made only of request bytes has none).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer.h"
#include "server/jinja_template.h"
#include "server/prompt_tokenizer.h"

namespace {

using namespace llmops::server::jinja;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

const llmops::engine::Tokenizer& tokenizer() {
  static const llmops::engine::Tokenizer tok = [] {
    llmops::engine::Vocab v = llmops::engine::make_byte_vocab();
    for (const char* piece : {"<|im_start|>", "<|im_end|>", "<tool_call>", "<s"}) {
      v.pieces.push_back(piece);
      v.scores.push_back(0.0f);
      v.types.push_back(llmops::engine::TokenType::Control);
    }
    return llmops::engine::Tokenizer(std::move(v));
  }();
  return tok;
}

bool is_special(int32_t id) {
  return tokenizer().vocab().types[static_cast<size_t>(id)] == llmops::engine::TokenType::Control;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string_view source = input.substr(0, nul);
  const std::string content =
      nul == std::string_view::npos ? "Hi <|im_end|> there" : std::string(input.substr(nul + 1));

  std::vector<std::pair<std::string, Value>> vars;
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  messages.push_back({{"role", "system"}, {"content", "Be brief."}});
  messages.push_back({{"role", "user"}, {"content", content}});
  messages.push_back(
      {{"role", "assistant"},
       {"content", "<think>\nx\n</think>\n\nok"},
       {"tool_calls", {{{"function", {{"name", "f"}, {"arguments", {{"a", 1}}}}}}}}});
  vars.emplace_back("messages", from_json(messages, true));
  vars.emplace_back("bos_token", Value::string("<s>"));
  vars.emplace_back("add_generation_prompt", Value::boolean(true));

  RenderOptions options;
  options.limits.max_output_bytes = 1 << 16;
  options.limits.max_loop_iterations = 10000;
  options.limits.max_steps = 200000;
  options.limits.max_call_depth = 50;
  options.now = [] { return std::time_t{1700000000}; };
  try {
    const Template t(source);
    const Text out = t.render(vars, options);
    check(t.render(vars, options).str() == out.str());
    std::string joined;
    for (const auto& run : out.runs()) joined += run.text;
    check(joined == out.str());

    const llmops::server::PromptTokenizer prompt_tokenizer(tokenizer());
    for (int32_t id : prompt_tokenizer.tokenize_ids(out)) {
      check(id >= 0 && static_cast<size_t>(id) < tokenizer().size());
    }
    for (int32_t id : prompt_tokenizer.tokenize_ids(Text(out.str(), /*from_request=*/true))) {
      check(!is_special(id));
    }
  } catch (const TemplateError&) {
  }
  return 0;
}
