// A Jinja chat template, parsed once and rendered per request: our own interpreter of the
// Jinja2 subset that Hugging Face chat templates use (see jinja_parser.h for the syntax,
// jinja_builtins.h for filters, tests and globals). Rendering returns Text, which knows
// the bytes that came from the request.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jinja_interpreter.h"
#include "jinja_parser.h"
#include "jinja_value.h"

namespace llmops::server::jinja {

class Template {
 public:
  // Throws TemplateError (line, column, what) for a syntax error.
  explicit Template(std::string_view source, const ParseOptions& options = {});

  // Thread-safe. Throws TemplateError for a render error (raise_exception, a type error,
  // an undefined value used, a limit exceeded), naming where in the template it happened.
  Text render(const std::vector<std::pair<std::string, Value>>& variables,
              const RenderOptions& options = {}) const;

 private:
  std::shared_ptr<const Program> program_;
};

}  // namespace llmops::server::jinja
