#include "model_tokenizer.h"

#include "errors.h"

namespace llmops::engine {

Tokenizer load_tokenizer_for(const Model& model, const std::string& tokenizer_path) {
  Vocab vocab;
  std::string source;
  if (!tokenizer_path.empty()) {
    vocab = load_tokenizer_bin(tokenizer_path);
    source = "tokenizer " + tokenizer_path;
  } else if (model.vocab) {
    vocab = *model.vocab;
    source = "the vocabulary in " + model.path;
  } else {
    throw ModelError(model.path +
                     ": a llama2.c checkpoint carries no vocabulary; pass --tokenizer "
                     "tokenizer.bin");
  }
  if (vocab.size() != static_cast<size_t>(model.config.vocab_size)) {
    throw ModelError(source + " has " + std::to_string(vocab.size()) + " tokens but model " +
                     model.path + " has a vocabulary of " +
                     std::to_string(model.config.vocab_size));
  }
  return Tokenizer(std::move(vocab));
}

}  // namespace llmops::engine
