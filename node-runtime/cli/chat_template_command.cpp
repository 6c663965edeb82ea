// `llmops-runtime chat-template`: renders a chat template for a list of messages and
// prints the prompt, as /v1/chat/completions builds it (or its token ids with --ids).
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "args.h"
#include "commands.h"
#include "engine/model.h"
#include "engine/model_tokenizer.h"
#include "server/chat_template.h"

namespace llmops::cli {

namespace {

// FILE.json: an array of messages, or an object {"messages": [...], "tools": [...], and
// any other template variables (e.g. "enable_thinking": false)}.
server::ChatInputs read_messages(const std::string& path) {
  const std::string text = read_text_file(path);
  const auto json = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) throw UsageError("--messages " + path + " is not valid JSON");
  server::ChatInputs inputs;
  if (json.is_array()) {
    inputs.messages = json;
    return inputs;
  }
  if (!json.is_object() || !json.contains("messages") || !json["messages"].is_array()) {
    throw UsageError("--messages " + path +
                     " must hold an array of messages or an object with a \"messages\" array");
  }
  for (const auto& [key, value] : json.items()) {
    if (key == "messages") {
      inputs.messages = value;
    } else if (key == "tools") {
      inputs.tools = value;
    } else {
      inputs.extra_variables[key] = value;
    }
  }
  return inputs;
}

}  // namespace

int run_chat_template(const std::vector<std::string>& argv) {
  const Args args(argv, {"model", "template", "messages", "bos-token", "eos-token", "now"},
                  {"add-generation-prompt", "ids"});
  if (!args.has("model") && !args.has("template")) {
    throw UsageError("give --model M (its tokenizer.chat_template) or --template FILE");
  }
  server::ChatInputs inputs = read_messages(args.str("messages"));
  inputs.add_generation_prompt = args.has("add-generation-prompt");
  if (args.has("now")) {
    const auto now = static_cast<std::time_t>(args.integer("now"));
    inputs.now = [now] { return now; };
  }

  std::optional<engine::Model> model;
  std::optional<engine::Tokenizer> tokenizer;
  std::string source;
  if (args.has("model")) {
    model = engine::load_model(args.str("model"));
    tokenizer.emplace(engine::load_tokenizer_for(*model, ""));
    source = model->chat_template;
    inputs.bos_token = server::token_text(*tokenizer, tokenizer->bos());
    inputs.eos_token = server::token_text(*tokenizer, tokenizer->eos());
  }
  if (args.has("template")) source = read_text_file(args.str("template"));
  if (source.empty()) {
    throw UsageError(args.has("template") ? args.str("template") + " is empty"
                                          : args.str("model") + " has no tokenizer.chat_template");
  }
  if (const auto bos = args.opt("bos-token")) inputs.bos_token = *bos;
  if (const auto eos = args.opt("eos-token")) inputs.eos_token = *eos;

  const server::ChatTemplate chat_template(source);
  const server::jinja::Text prompt = chat_template.render(inputs);  // throws ChatTemplateError
  if (args.has("ids")) {
    if (!tokenizer) throw UsageError("--ids needs --model (its vocabulary)");
    const server::PromptTokenizer prompt_tokenizer(*tokenizer);
    std::cout << nlohmann::json(prompt_tokenizer.tokenize(prompt)).dump() << "\n";
    return 0;
  }
  std::fwrite(prompt.str().data(), 1, prompt.str().size(), stdout);
  return 0;
}

}  // namespace llmops::cli
