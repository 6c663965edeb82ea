// Parses Jinja2 syntax into a Program: if/elif/else, for (tuple targets, "if" filter,
// else), set (also block set and namespace attributes), macro, call, filter blocks,
// break/continue, {% generation %}; expressions with Jinja2's precedence, filters, tests,
// slices, calls with keyword arguments, list/tuple/dict literals.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "jinja_ast.h"
#include "jinja_lexer.h"

namespace llmops::server::jinja {

struct ParseOptions {
  LexerOptions lexer;
  // Nesting of expressions and statements; deeper input is an error, not a stack overflow.
  size_t max_nesting = 100;
};

// Throws TemplateError naming the line and column of the first syntax error.
std::unique_ptr<Program> parse_template(std::string_view source, const ParseOptions& options = {});

}  // namespace llmops::server::jinja
