// Splits a Jinja template into text and tag tokens, as Jinja2's lexer does with the
// settings Hugging Face uses for chat templates: trim_blocks and lstrip_blocks on, "-"
// and "+" whitespace control, comments dropped, {% raw %} kept verbatim, newlines
// normalised to "\n" and one trailing newline removed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "jinja_value.h"

namespace llmops::server::jinja {

enum class TokenKind {
  Text,        // template data outside tags
  VarBegin,    // {{
  VarEnd,      // }}
  BlockBegin,  // {%
  BlockEnd,    // %}
  Name,
  String,  // value holds the unescaped string
  Int,
  Float,
  Operator,  // + - * / // % ** ~ == != < <= > >= = . : | , ( ) [ ] { } ;
  End,
};

struct Token {
  TokenKind kind;
  std::string value;
  SourcePos pos;
};

struct LexerOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  size_t max_source_bytes = 1 << 20;
};

// Throws TemplateError (with the line and column) for an unclosed tag, comment, raw block
// or string, an unbalanced bracket, or a character no token starts with.
std::vector<Token> tokenize_template(std::string_view source, const LexerOptions& options = {});

}  // namespace llmops::server::jinja
