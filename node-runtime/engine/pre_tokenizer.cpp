#include "pre_tokenizer.h"

#include <cstdint>

#include "unicode.h"

namespace llmops::engine {

namespace {

// A piece of the text being split: code points [begin, end).
struct Span {
  size_t begin;
  size_t end;
};

// Matchers see one piece at a time: a regex applied to a piece cannot look past its ends.
class Piece {
 public:
  Piece(const std::vector<uint32_t>& cps, Span s) : cps_(cps), s_(s) {}
  bool in(size_t i) const { return i < s_.end; }
  uint32_t cp(size_t i) const { return cps_[i]; }
  CodepointInfo info(size_t i) const { return codepoint_info(cps_[i]); }
  bool letter(size_t i) const { return in(i) && info(i).cls == UnicodeClass::Letter; }
  bool number(size_t i) const { return in(i) && info(i).cls == UnicodeClass::Number; }
  bool space(size_t i) const { return in(i) && info(i).whitespace; }
  // [^\s\p{L}\p{N}]
  bool other(size_t i) const { return in(i) && !info(i).whitespace && !letter(i) && !number(i); }
  bool newline(size_t i) const { return in(i) && (cp(i) == '\r' || cp(i) == '\n'); }
  size_t end() const { return s_.end; }

  template <typename Pred>
  size_t run(size_t i, Pred pred) const {
    while (in(i) && pred(i)) ++i;
    return i;
  }

 private:
  const std::vector<uint32_t>& cps_;
  Span s_;
};

uint32_t lower_ascii(uint32_t c) {
  return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

// 's|'t|'re|'ve|'m|'ll|'d at i: the end of the match, or i when none.
size_t contraction(const Piece& p, size_t i, bool ignore_case) {
  if (p.cp(i) != '\'' || !p.in(i + 1)) return i;
  const auto c = [&](size_t k) { return ignore_case ? lower_ascii(p.cp(k)) : p.cp(k); };
  const uint32_t a = c(i + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
  if (!p.in(i + 2)) return i;
  const uint32_t b = c(i + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
  return i;
}

// \s+(?!\S)|\s+ at a whitespace code point: a run followed by more text leaves its last
// whitespace to the next word (unless the run is a single code point).
size_t whitespace_run(const Piece& p, size_t i) {
  const size_t e = p.run(i, [&](size_t k) { return p.space(k); });
  if (e - i > 1 && p.in(e)) return e - 1;
  return e;
}

// One match of GPT-2's regex at i (every position matches one alternative).
size_t match_gpt2(const Piece& p, size_t i) {
  if (size_t e = contraction(p, i, false); e != i) return e;
  const size_t start = p.cp(i) == ' ' ? i + 1 : i;  // " ?"
  if (p.letter(start)) return p.run(start, [&](size_t k) { return p.letter(k); });
  if (p.number(start)) return p.run(start, [&](size_t k) { return p.number(k); });
  if (p.other(start)) return p.run(start, [&](size_t k) { return p.other(k); });
  if (p.letter(i)) return p.run(i, [&](size_t k) { return p.letter(k); });
  if (p.number(i)) return p.run(i, [&](size_t k) { return p.number(k); });
  if (p.other(i)) return p.run(i, [&](size_t k) { return p.other(k); });
  return whitespace_run(p, i);
}

// One match of the Llama 3 regex (max_digits 3) or Qwen 2's (1) at i.
size_t match_llama3(const Piece& p, size_t i, size_t max_digits) {
  if (size_t e = contraction(p, i, true); e != i) return e;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (!p.newline(i) && !p.letter(i) && !p.number(i) && p.letter(i + 1)) {
    return p.run(i + 1, [&](size_t k) { return p.letter(k); });
  }
  if (p.letter(i)) return p.run(i, [&](size_t k) { return p.letter(k); });
  // \p{N}{1,max}
  if (p.number(i)) {
    size_t e = i;
    while (e - i < max_digits && p.number(e)) ++e;
    return e;
  }
  // ' '?[^\s\p{L}\p{N}]+[\r\n]*
  const size_t start = p.cp(i) == ' ' && p.other(i + 1) ? i + 1 : i;
  if (p.other(start)) {
    const size_t e = p.run(start, [&](size_t k) { return p.other(k); });
    return p.run(e, [&](size_t k) { return p.newline(k); });
  }
  // \s*[\r\n]+ : up to the last newline of the whitespace run
  size_t last_newline = i;
  for (size_t k = i; p.space(k); ++k) {
    if (p.newline(k)) last_newline = k + 1;
  }
  if (last_newline != i) return last_newline;
  return whitespace_run(p, i);
}

// A pass splits every piece into consecutive matches.
template <typename Match>
std::vector<Span> split_all(const std::vector<uint32_t>& cps, const std::vector<Span>& pieces,
                            Match match) {
  std::vector<Span> out;
  out.reserve(pieces.size() * 2);
  for (const Span& s : pieces) {
    const Piece p(cps, s);
    size_t i = s.begin;
    while (i < s.end) {
      size_t e = match(p, i);
      if (e <= i) e = i + 1;  // defensive: every matcher consumes at least one code point
      out.push_back({i, e});
      i = e;
    }
  }
  return out;
}

// A pass that isolates the matches of a regex that does not match everywhere (runs of a
// class): the text between matches stays as pieces of its own.
template <typename Find>
std::vector<Span> isolate_all(const std::vector<uint32_t>& cps, const std::vector<Span>& pieces,
                              Find find_end) {
  std::vector<Span> out;
  out.reserve(pieces.size() * 2);
  for (const Span& s : pieces) {
    const Piece p(cps, s);
    size_t gap = s.begin;
    size_t i = s.begin;
    while (i < s.end) {
      const size_t e = find_end(p, i);  // end of a match at i, or i for none
      if (e == i) {
        ++i;
        continue;
      }
      if (i > gap) out.push_back({gap, i});
      out.push_back({i, e});
      i = gap = e;
    }
    if (s.end > gap) out.push_back({gap, s.end});
  }
  return out;
}

bool default_punctuation(const Piece& p, size_t k) {
  const uint32_t c = p.cp(k);
  if (c == '$' || c == '+' || c == '<' || c == '=' || c == '>' || c == '^' || c == '~' ||
      c == '|') {
    return true;
  }
  return p.info(k).cls == UnicodeClass::Punctuation;
}

}  // namespace

std::optional<PreTokenizer> parse_pre_tokenizer(std::string_view name) {
  if (name == "default") return PreTokenizer::Default;
  if (name == "gpt-2") return PreTokenizer::Gpt2;
  if (name == "llama-bpe" || name == "llama3" || name == "llama-v3") return PreTokenizer::Llama3;
  if (name == "qwen2") return PreTokenizer::Qwen2;
  if (name == "smollm") return PreTokenizer::Smollm;
  return std::nullopt;
}

std::string_view pre_tokenizer_name(PreTokenizer pre) {
  switch (pre) {
    case PreTokenizer::Default:
      return "default";
    case PreTokenizer::Gpt2:
      return "gpt-2";
    case PreTokenizer::Llama3:
      return "llama-bpe";
    case PreTokenizer::Qwen2:
      return "qwen2";
    case PreTokenizer::Smollm:
      return "smollm";
  }
  return "default";
}

std::string supported_pre_tokenizers() {
  return "default, gpt-2, llama-bpe (also llama3, llama-v3), qwen2, smollm";
}

std::vector<std::string> pre_tokenize(PreTokenizer pre, std::string_view text) {
  const std::vector<uint32_t> cps = utf8_to_codepoints(text);
  std::vector<Span> pieces;
  if (!cps.empty()) pieces.push_back({0, cps.size()});
  const auto gpt2 = [](const Piece& p, size_t i) { return match_gpt2(p, i); };
  switch (pre) {
    case PreTokenizer::Default:
      pieces = isolate_all(cps, pieces, [](const Piece& p, size_t i) {
        return p.run(i, [&](size_t k) { return default_punctuation(p, k); });
      });
      pieces = split_all(cps, pieces, gpt2);
      pieces = isolate_all(cps, pieces, [](const Piece& p, size_t i) {
        return p.run(i, [&](size_t k) { return p.number(k); });
      });
      pieces = isolate_all(cps, pieces, [](const Piece& p, size_t i) {
        const auto digit = [&](size_t k) { return p.in(k) && p.cp(k) >= '0' && p.cp(k) <= '9'; };
        return digit(i) && digit(i + 1) && digit(i + 2) ? i + 3 : i;
      });
      break;
    case PreTokenizer::Gpt2:
      pieces = split_all(cps, pieces, gpt2);
      break;
    case PreTokenizer::Llama3:
      pieces =
          split_all(cps, pieces, [](const Piece& p, size_t i) { return match_llama3(p, i, 3); });
      break;
    case PreTokenizer::Qwen2:
      pieces =
          split_all(cps, pieces, [](const Piece& p, size_t i) { return match_llama3(p, i, 1); });
      break;
    case PreTokenizer::Smollm:
      pieces = isolate_all(cps, pieces,
                           [](const Piece& p, size_t i) { return p.number(i) ? i + 1 : i; });
      pieces = split_all(cps, pieces, gpt2);
      break;
  }
  std::vector<std::string> words;
  words.reserve(pieces.size());
  for (const Span& s : pieces) {
    std::string w;
    for (size_t i = s.begin; i < s.end; ++i) append_utf8(w, cps[i]);
    words.push_back(std::move(w));
  }
  return words;
}

}  // namespace llmops::engine
