#include "jinja_template.h"

namespace llmops::server::jinja {

Template::Template(std::string_view source, const ParseOptions& options)
    : program_(parse_template(source, options)) {}

Text Template::render(const std::vector<std::pair<std::string, Value>>& variables,
                      const RenderOptions& options) const {
  Interpreter interpreter(options);
  return interpreter.render(*program_, variables);
}

}  // namespace llmops::server::jinja
