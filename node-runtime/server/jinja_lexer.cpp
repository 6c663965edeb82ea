#include "jinja_lexer.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace llmops::server::jinja {

namespace {

enum class TagKind { Variable, Block, Comment };

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

class Lexer {
 public:
  Lexer(std::string_view source, const LexerOptions& options) : options_(options) {
    // Jinja2 normalises \r\n and \r to \n and drops one trailing newline.
    src_.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
      if (source[i] == '\r') {
        src_ += '\n';
        if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
      } else {
        src_ += source[i];
      }
    }
    if (!src_.empty() && src_.back() == '\n') src_.pop_back();
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  std::vector<Token> run() {
    const size_t n = src_.size();
    size_t i = 0;
    bool line_starting = true;
    while (i < n) {
      size_t t = i;
      while (true) {
        t = src_.find('{', t);
        if (t == std::string::npos || t + 1 >= n) {
          t = std::string::npos;
          break;
        }
        const char c = src_[t + 1];
        if (c == '{' || c == '%' || c == '#') break;
        ++t;
      }
      if (t == std::string::npos) {
        emit_text(i, src_.substr(i));
        break;
      }
      const TagKind kind = src_[t + 1] == '{'   ? TagKind::Variable
                           : src_[t + 1] == '%' ? TagKind::Block
                                                : TagKind::Comment;
      size_t after = t + 2;
      char modifier = 0;
      if (after < n && (src_[after] == '-' || src_[after] == '+')) modifier = src_[after++];
      std::string text = src_.substr(i, t - i);
      strip_before_tag(text, modifier, kind != TagKind::Variable, line_starting);
      emit_text(i, std::move(text));

      if (kind == TagKind::Comment) {
        i = lex_comment(t, after);
      } else if (size_t raw_end = 0; kind == TagKind::Block && is_raw_begin(after, raw_end)) {
        i = lex_raw(t, raw_end);
      } else {
        i = lex_tag(t, after, kind);
      }
      line_starting = i > 0 && src_[i - 1] == '\n';
    }
    out_.push_back({TokenKind::End, "", pos_at(n)});
    return std::move(out_);
  }

 private:
  [[noreturn]] void fail(const std::string& message, size_t offset) const {
    throw TemplateError(message, pos_at(offset));
  }

  SourcePos pos_at(size_t offset) const {
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const size_t line = static_cast<size_t>(it - line_starts_.begin());
    const size_t start = line_starts_[line - 1];
    const std::string_view before(src_.data() + start, std::min(offset, src_.size()) - start);
    return {static_cast<int>(line), static_cast<int>(utf8_length(before)) + 1};
  }

  bool space_at(size_t i, size_t& len) const { return is_space_at(src_, i, len); }

  size_t skip_space(size_t i) const {
    size_t len = 1;
    while (i < src_.size() && space_at(i, len)) i += len;
    return i;
  }

  // Python's str.rstrip(): removes trailing whitespace characters.
  static void rstrip(std::string& text) {
    size_t end = 0, i = 0, len = 1;
    while (i < text.size()) {
      if (!is_space_at(text, i, len)) end = i + len;
      i += len;
    }
    text.resize(end);
  }

  // "-" strips all whitespace before the tag; lstrip_blocks strips spaces and tabs that
  // start the tag's line (blocks and comments only; "+" keeps them).
  void strip_before_tag(std::string& text, char modifier, bool is_block_or_comment,
                        bool line_starting) const {
    if (modifier == '-') {
      rstrip(text);
      return;
    }
    if (modifier == '+' || !options_.lstrip_blocks || !is_block_or_comment) return;
    const size_t nl = text.rfind('\n');
    const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
    if (l_pos == 0 && !line_starting) return;
    size_t i = l_pos, len = 1;
    while (i < text.size() && is_space_at(text, i, len)) i += len;
    if (i == text.size()) text.resize(l_pos);
  }

  void emit_text(size_t offset, std::string text) {
    if (!text.empty()) out_.push_back({TokenKind::Text, std::move(text), pos_at(offset)});
  }

  // After a block (or comment) end: "-" strips all following whitespace, "+" nothing,
  // otherwise trim_blocks removes one newline.
  size_t after_block_end(size_t i, char modifier) const {
    if (modifier == '-') return skip_space(i);
    if (modifier != '+' && options_.trim_blocks && i < src_.size() && src_[i] == '\n') return i + 1;
    return i;
  }

  size_t lex_comment(size_t start, size_t after) {
    const size_t e = src_.find("#}", after);
    if (e == std::string::npos) fail("missing end of comment tag", start);
    const char modifier = e > after && (src_[e - 1] == '-' || src_[e - 1] == '+') ? src_[e - 1] : 0;
    return after_block_end(e + 2, modifier);
  }

  // {% raw %} (also {%- raw -%}): sets raw_end to just after its closing %}.
  bool is_raw_begin(size_t after, size_t& raw_end) const {
    size_t j = skip_space(after);
    if (src_.compare(j, 3, "raw") != 0 || (j + 3 < src_.size() && is_name_char(src_[j + 3]))) {
      return false;
    }
    j = skip_space(j + 3);
    if (src_.compare(j, 3, "-%}") == 0) {
      raw_end = skip_space(j + 3);
      return true;
    }
    if (src_.compare(j, 2, "%}") == 0) {
      raw_end = j + 2;
      return true;
    }
    return false;
  }

  size_t lex_raw(size_t start, size_t content_start) {
    for (size_t s = src_.find("{%", content_start); s != std::string::npos;
         s = src_.find("{%", s + 1)) {
      size_t j = s + 2;
      char open_mod = 0;
      if (j < src_.size() && (src_[j] == '-' || src_[j] == '+')) open_mod = src_[j++];
      j = skip_space(j);
      if (src_.compare(j, 6, "endraw") != 0) continue;
      j = skip_space(j + 6);
      char close_mod = 0;
      if (j < src_.size() && (src_[j] == '-' || src_[j] == '+')) close_mod = src_[j++];
      if (src_.compare(j, 2, "%}") != 0) continue;
      std::string content = src_.substr(content_start, s - content_start);
      strip_before_tag(content, open_mod, true, false);
      emit_text(content_start, std::move(content));
      return after_block_end(j + 2, close_mod);
    }
    fail("missing end of raw directive", start);
  }

  // The expression tokens of a {{ … }} or {% … %} tag, up to and including its end.
  size_t lex_tag(size_t start, size_t i, TagKind kind) {
    const bool block = kind == TagKind::Block;
    out_.push_back({block ? TokenKind::BlockBegin : TokenKind::VarBegin, "", pos_at(start)});
    std::vector<char> balance;
    const size_t n = src_.size();
    while (true) {
      i = skip_space(i);
      if (i >= n) {
        fail(std::string("unexpected end of template: the tag opened here is not closed by ") +
                 (block ? "%}" : "}}"),
             start);
      }
      if (balance.empty()) {
        const char* end = block ? "%}" : "}}";
        char modifier = 0;
        size_t end_len = 0;
        if ((src_[i] == '-' || (block && src_[i] == '+')) && src_.compare(i + 1, 2, end) == 0) {
          modifier = src_[i];
          end_len = 3;
        } else if (src_.compare(i, 2, end) == 0) {
          end_len = 2;
        }
        if (end_len) {
          out_.push_back({block ? TokenKind::BlockEnd : TokenKind::VarEnd, "", pos_at(i)});
          i += end_len;
          if (block) return after_block_end(i, modifier);
          return modifier == '-' ? skip_space(i) : i;
        }
      }
      i = lex_expression_token(i, balance);
    }
  }

  size_t lex_expression_token(size_t i, std::vector<char>& balance) {
    const char c = src_[i];
    const SourcePos pos = pos_at(i);
    if (is_digit(c)) return lex_number(i);
    if (is_name_start(c)) {
      size_t j = i;
      while (j < src_.size() && is_name_char(src_[j])) ++j;
      out_.push_back({TokenKind::Name, src_.substr(i, j - i), pos});
      return j;
    }
    if (c == '\'' || c == '"') return lex_string(i);
    static const char* const kOperators[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "/",
                                             "*",  "%",  "~",  "[",  "]",  "(",  ")", "{", "}",
                                             "=",  "<",  ">",  ".",  ":",  "|",  ",", ";"};
    for (const char* op : kOperators) {
      const size_t len = std::strlen(op);
      if (src_.compare(i, len, op) != 0) continue;
      if (len == 1 && (c == '(' || c == '[' || c == '{')) {
        balance.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
      } else if (len == 1 && (c == ')' || c == ']' || c == '}')) {
        if (balance.empty()) fail(std::string("unexpected '") + c + "'", i);
        if (balance.back() != c) {
          fail(std::string("unexpected '") + c + "', expected '" + balance.back() + "'", i);
        }
        balance.pop_back();
      }
      out_.push_back({TokenKind::Operator, op, pos});
      return i + len;
    }
    size_t len = 1;
    const uint32_t cp = utf8_decode(src_, i, len);
    std::string shown = src_.substr(i, len);
    if (cp == kInvalidChar || cp < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      shown = buf;
    }
    fail("unexpected character '" + shown + "' in a tag", i);
  }

  // Digits with optional "_" separators, as Jinja2 reads them.
  size_t digits(size_t i, std::string& out) const {
    const size_t start = i;
    while (i < src_.size() &&
           (is_digit(src_[i]) ||
            (src_[i] == '_' && i > start && i + 1 < src_.size() && is_digit(src_[i + 1])))) {
      if (src_[i] != '_') out += src_[i];
      ++i;
    }
    return i;
  }

  size_t lex_number(size_t i) {
    const SourcePos pos = pos_at(i);
    std::string value;
    size_t j = digits(i, value);
    bool is_float = false;
    // No fraction right after a dot (x.0.1 is x[0][1], as in Jinja2).
    const bool after_dot = i > 0 && src_[i - 1] == '.';
    if (!after_dot && j + 1 < src_.size() && src_[j] == '.' && is_digit(src_[j + 1])) {
      value += '.';
      j = digits(j + 1, value);
      is_float = true;
    }
    if (!after_dot && j < src_.size() && (src_[j] == 'e' || src_[j] == 'E')) {
      size_t k = j + 1;
      std::string exponent = "e";
      if (k < src_.size() && (src_[k] == '+' || src_[k] == '-')) exponent += src_[k++];
      if (k < src_.size() && is_digit(src_[k])) {
        j = digits(k, exponent);
        value += exponent;
        is_float = true;
      }
    }
    out_.push_back({is_float ? TokenKind::Float : TokenKind::Int, value, pos});
    return j;
  }

  static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // A quoted string with Python's escapes (\n, \t, \xhh, \uXXXX, \UXXXXXXXX, octal, …);
  // an unknown escape keeps its backslash, as Python's unicode-escape codec does.
  size_t lex_string(size_t i) {
    const SourcePos pos = pos_at(i);
    const char quote = src_[i];
    std::string value;
    size_t j = i + 1;
    while (true) {
      if (j >= src_.size()) fail("unterminated string", i);
      const char c = src_[j];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++j;
        continue;
      }
      if (j + 1 >= src_.size()) fail("unterminated string", i);
      const char e = src_[j + 1];
      j += 2;
      switch (e) {
        case 'n':
          value += '\n';
          break;
        case 't':
          value += '\t';
          break;
        case 'r':
          value += '\r';
          break;
        case 'a':
          value += '\a';
          break;
        case 'b':
          value += '\b';
          break;
        case 'f':
          value += '\f';
          break;
        case 'v':
          value += '\v';
          break;
        case '\\':
          value += '\\';
          break;
        case '\'':
          value += '\'';
          break;
        case '"':
          value += '"';
          break;
        case '\n':
          break;  // line continuation
        case 'x':
        case 'u':
        case 'U': {
          const size_t count = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (size_t k = 0; k < count; ++k) {
            const int h = j + k < src_.size() ? hex_value(src_[j + k]) : -1;
            if (h < 0) fail(std::string("truncated \\") + e + " escape in a string", j - 2);
            cp = cp * 16 + static_cast<uint32_t>(h);
          }
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            fail("escape in a string is not a valid character", j - 2);
          }
          append_utf8(value, cp);
          j += count;
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && j < src_.size() && src_[j] >= '0' && src_[j] <= '7'; ++k) {
              cp = cp * 8 + static_cast<uint32_t>(src_[j++] - '0');
            }
            append_utf8(value, cp);
          } else {
            value += '\\';
            value += e;
          }
      }
    }
    out_.push_back({TokenKind::String, std::move(value), pos});
    return j + 1;
  }

  const LexerOptions& options_;
  std::string src_;
  std::vector<size_t> line_starts_;
  std::vector<Token> out_;
};

}  // namespace

std::vector<Token> tokenize_template(std::string_view source, const LexerOptions& options) {
  if (source.size() > options.max_source_bytes) {
    throw TemplateError("the template is " + std::to_string(source.size()) +
                            " bytes, more than the limit of " +
                            std::to_string(options.max_source_bytes),
                        {});
  }
  return Lexer(source, options).run();
}

}  // namespace llmops::server::jinja
