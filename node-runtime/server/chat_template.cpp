#include "chat_template.h"

#include <stdexcept>

namespace llmops::server {

std::string_view chat_format_name(ChatFormat format) {
  switch (format) {
    case ChatFormat::Llama2:
      return "llama2";
    case ChatFormat::ChatML:
      return "chatml";
    case ChatFormat::Plain:
      return "plain";
  }
  return "plain";
}

std::optional<ChatFormat> parse_chat_format(std::string_view name) {
  for (ChatFormat f : {ChatFormat::Llama2, ChatFormat::ChatML, ChatFormat::Plain}) {
    if (chat_format_name(f) == name) return f;
  }
  return std::nullopt;
}

namespace {

void check_roles(const std::vector<ChatMessage>& messages) {
  if (messages.empty()) throw std::invalid_argument("messages must not be empty");
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& role = messages[i].role;
    if (role != "system" && role != "user" && role != "assistant") {
      throw std::invalid_argument("messages[" + std::to_string(i) + "].role '" + role +
                                  "' is not one of system, user, assistant");
    }
  }
}

void append(std::vector<int32_t>& out, const std::vector<int32_t>& ids) {
  out.insert(out.end(), ids.begin(), ids.end());
}

std::string trim(std::string_view s) {
  const auto begin = s.find_first_not_of(" \t\n\r");
  if (begin == std::string_view::npos) return "";
  const auto end = s.find_last_not_of(" \t\n\r");
  return std::string(s.substr(begin, end - begin + 1));
}

// Meta's reference: each exchange is BOS "[INST] user [/INST] answer " EOS; the system
// prompt is folded into the first user message inside <<SYS>> markers.
ChatPrompt render_llama2(const std::vector<ChatMessage>& messages,
                         const engine::Tokenizer& tokenizer) {
  std::string system;
  std::vector<ChatMessage> turns;
  for (const auto& m : messages) {
    if (m.role == "system") {
      system += (system.empty() ? "" : "\n") + trim(m.content);
    } else {
      turns.push_back(m);
    }
  }
  ChatPrompt prompt;
  std::string pending_user;
  bool first_user = true;
  for (const auto& m : turns) {
    if (m.role == "user") {
      std::string content = trim(m.content);
      if (first_user && !system.empty()) {
        content = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + content;
      }
      first_user = false;
      if (!pending_user.empty()) pending_user += "\n";
      pending_user += content;
    } else {
      append(prompt.ids,
             tokenizer.encode("[INST] " + pending_user + " [/INST] " + trim(m.content) + " ", true,
                              true));
      pending_user.clear();
    }
  }
  if (first_user && !system.empty()) {
    pending_user = "<<SYS>>\n" + system + "\n<</SYS>>\n\n";
  }
  append(prompt.ids, tokenizer.encode("[INST] " + pending_user + " [/INST]", true));
  return prompt;
}

// <|im_start|>role\ncontent<|im_end|>\n … <|im_start|>assistant\n. The markers are
// special tokens when the vocabulary has them, else plain text (and a stop string).
ChatPrompt render_chatml(const std::vector<ChatMessage>& messages,
                         const engine::Tokenizer& tokenizer) {
  const int32_t start = tokenizer.find_piece("<|im_start|>");
  const int32_t end = tokenizer.find_piece("<|im_end|>");
  ChatPrompt prompt;
  if (tokenizer.add_bos()) prompt.ids.push_back(tokenizer.bos());
  std::string text;  // text not yet tokenized
  bool at_start = true;
  auto flush_text = [&] {
    if (text.empty()) return;
    append(prompt.ids, tokenizer.encode(text, false, false, /*dummy_prefix=*/at_start));
    text.clear();
    at_start = false;
  };
  auto marker = [&](int32_t id, const char* spelled) {
    if (id >= 0) {
      flush_text();
      prompt.ids.push_back(id);
      at_start = false;
    } else {
      text += spelled;
    }
  };
  for (const auto& m : messages) {
    marker(start, "<|im_start|>");
    text += m.role + "\n" + m.content;
    marker(end, "<|im_end|>");
    text += "\n";
  }
  marker(start, "<|im_start|>");
  text += "assistant\n";
  flush_text();
  if (end >= 0) {
    prompt.stop_tokens.push_back(end);
  } else {
    prompt.stop.push_back("<|im_end|>");
  }
  return prompt;
}

// The documented fallback for models without a known template.
ChatPrompt render_plain(const std::vector<ChatMessage>& messages,
                        const engine::Tokenizer& tokenizer) {
  std::string text;
  for (const auto& m : messages) {
    if (m.role == "system") {
      text += m.content + "\n\n";
    } else {
      text += (m.role == "user" ? "User: " : "Assistant: ") + m.content + "\n";
    }
  }
  text += "Assistant:";
  ChatPrompt prompt;
  prompt.ids = tokenizer.encode_prompt(text);
  prompt.stop = {"\nUser:"};
  return prompt;
}

}  // namespace

ChatPrompt render_chat(ChatFormat format, const std::vector<ChatMessage>& messages,
                       const engine::Tokenizer& tokenizer) {
  check_roles(messages);
  switch (format) {
    case ChatFormat::Llama2:
      return render_llama2(messages, tokenizer);
    case ChatFormat::ChatML:
      return render_chatml(messages, tokenizer);
    case ChatFormat::Plain:
      return render_plain(messages, tokenizer);
  }
  return render_plain(messages, tokenizer);
}

ChatTemplate::ChatTemplate(std::string_view source, const jinja::RenderLimits& limits)
    : limits_(limits) {
  try {
    template_ = std::make_shared<const jinja::Template>(source);
  } catch (const jinja::TemplateError& e) {
    error_ = std::string("the model's chat template has a syntax error at ") + e.what();
  }
}

jinja::Text ChatTemplate::render(const ChatInputs& inputs) const {
  if (!template_) throw ChatTemplateError(error_);
  std::vector<std::pair<std::string, jinja::Value>> vars;
  try {
    for (const auto& [name, value] : inputs.extra_variables.items()) {
      vars.emplace_back(name, jinja::from_json(value, /*from_request=*/true));
    }
    vars.emplace_back("messages", jinja::from_json(inputs.messages, /*from_request=*/true));
    if (!inputs.tools.is_null()) {
      vars.emplace_back("tools", jinja::from_json(inputs.tools, /*from_request=*/true));
    }
  } catch (const std::invalid_argument& e) {
    throw ChatTemplateError(std::string("the chat messages cannot be given to the template: ") +
                            e.what());
  }
  vars.emplace_back("add_generation_prompt", jinja::Value::boolean(inputs.add_generation_prompt));
  vars.emplace_back("bos_token", jinja::Value::string(inputs.bos_token));
  vars.emplace_back("eos_token", jinja::Value::string(inputs.eos_token));
  jinja::RenderOptions options;
  options.limits = limits_;
  options.now = inputs.now;
  try {
    return template_->render(vars, options);
  } catch (const jinja::TemplateError& e) {
    throw ChatTemplateError(std::string("the model's chat template failed at ") + e.what());
  }
}

std::string token_text(const engine::Tokenizer& tokenizer, int32_t id) {
  if (id < 0 || static_cast<size_t>(id) >= tokenizer.size()) return "";
  return tokenizer.vocab().pieces[static_cast<size_t>(id)];
}

ChatPrompt render_chat(const ChatTemplate& chat_template, const std::vector<ChatMessage>& messages,
                       const PromptTokenizer& prompt_tokenizer) {
  const engine::Tokenizer& tokenizer = prompt_tokenizer.tokenizer();
  ChatInputs inputs;
  for (const auto& m : messages) {
    inputs.messages.push_back({{"role", m.role}, {"content", m.content}});
  }
  inputs.bos_token = token_text(tokenizer, tokenizer.bos());
  inputs.eos_token = token_text(tokenizer, tokenizer.eos());
  ChatPrompt prompt;
  prompt.ids = prompt_tokenizer.tokenize(chat_template.render(inputs));
  prompt.stop_tokens = end_of_turn_tokens(tokenizer);
  return prompt;
}

}  // namespace llmops::server
