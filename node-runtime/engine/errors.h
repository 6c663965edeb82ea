// Engine errors: exceptions whose message names the file, tensor or field at fault.
#pragma once

#include <stdexcept>
#include <string>

namespace llmops::engine {

// A model or tokenizer file that cannot be used as it is.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace llmops::engine
