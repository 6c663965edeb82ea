// The tokenizer a model is served with: a tokenizer.bin when one is given, else the
// vocabulary in the model file. Its size must equal the model's vocabulary size.
#pragma once

#include <string>

#include "model.h"
#include "tokenizer.h"

namespace llmops::engine {

// `tokenizer_path` may be empty. Throws ModelError when there is no vocabulary (a
// llama2.c checkpoint without --tokenizer) or when the sizes disagree.
Tokenizer load_tokenizer_for(const Model& model, const std::string& tokenizer_path);

}  // namespace llmops::engine
