// llmops-runtime tokenize: a model's tokenization of text, as llama.cpp's
// llama_tokenize(add_special = false) gives it (no BOS/EOS).
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "args.h"
#include "commands.h"
#include "engine/model.h"
#include "engine/model_tokenizer.h"

namespace llmops::cli {

int run_tokenize(const std::vector<std::string>& argv) {
  const Args args(argv, {"model", "tokenizer", "text", "texts"}, {"special"});
  if (args.has("text") == args.has("texts")) throw UsageError("give one of --text or --texts");
  const engine::Model model = engine::load_model(args.str("model"));
  const engine::Tokenizer tokenizer =
      engine::load_tokenizer_for(model, args.opt("tokenizer").value_or(""));
  const bool special = args.has("special");
  if (auto text = args.opt("text")) {
    std::cout << nlohmann::json(tokenizer.tokenize(*text, special)).dump() << "\n";
    return 0;
  }
  // --texts FILE: a JSON array of strings; prints [{"ids": [...], "text": decode(ids)}, ...]
  // on one line (the decoded text shows whether tokenization round-trips).
  const std::string path = args.str("texts");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("--texts: cannot open " + path);
  nlohmann::json texts;
  try {
    texts = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw UsageError("--texts: " + path + " is not JSON: " + e.what());
  }
  if (!texts.is_array()) throw UsageError("--texts: " + path + " is not a JSON array of strings");
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : texts) {
    if (!t.is_string()) throw UsageError("--texts: " + path + " holds a non-string");
    const std::vector<int32_t> ids = tokenizer.tokenize(t.get<std::string>(), special);
    out.push_back({{"ids", ids}, {"text", tokenizer.decode(ids)}});
  }
  std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return 0;
}

}  // namespace llmops::cli
