#include "prompt_tokenizer.h"

#include <algorithm>

namespace llmops::server {

using engine::TokenType;

std::vector<int32_t> tokenize_text(const engine::Tokenizer& tokenizer, std::string_view text,
                                   bool parse_special) {
  return tokenizer.tokenize(text, parse_special);
}

bool wants_bos(const engine::Tokenizer& tokenizer) {
  return tokenizer.add_bos() && tokenizer.bos() >= 0;
}

std::vector<int32_t> end_of_turn_tokens(const engine::Tokenizer& tokenizer) {
  // llama.cpp's end-of-generation set (EOT, EOM, <|im_end|>, <end_of_turn>, ...) but EOS,
  // which ends a generation anyway.
  std::vector<int32_t> out;
  for (const int32_t id : tokenizer.end_of_generation()) {
    if (id != tokenizer.eos()) out.push_back(id);
  }
  return out;
}

PromptTokenizer::PromptTokenizer(const engine::Tokenizer& tokenizer) : tokenizer_(tokenizer) {
  const engine::Vocab& v = tokenizer.vocab();
  for (size_t id = 0; id < v.size(); ++id) {
    const TokenType t = v.types[id];
    if (t != TokenType::Control && t != TokenType::UserDefined && t != TokenType::Unknown) continue;
    const std::string& piece = v.pieces[id];
    if (piece.empty()) continue;
    // Duplicate pieces: the lowest id wins, as find_piece does.
    auto& bucket = specials_by_byte_[static_cast<unsigned char>(piece[0])];
    if (std::any_of(bucket.begin(), bucket.end(),
                    [&](const auto& p) { return p.first == piece; })) {
      continue;
    }
    bucket.emplace_back(piece, static_cast<int32_t>(id));
  }
  for (auto& bucket : specials_by_byte_) {
    std::stable_sort(bucket.begin(), bucket.end(),
                     [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  }
}

int32_t PromptTokenizer::special_at(std::string_view s, size_t i, size_t& len) const {
  for (const auto& [piece, id] : specials_by_byte_[static_cast<unsigned char>(s[i])]) {
    if (s.compare(i, piece.size(), piece) == 0) {
      len = piece.size();
      return id;
    }
  }
  return -1;
}

std::vector<int32_t> PromptTokenizer::tokenize(const jinja::Text& prompt) const {
  std::vector<int32_t> ids = tokenize_ids(prompt);
  if (wants_bos(tokenizer_) && (ids.empty() || ids.front() != tokenizer_.bos())) {
    ids.insert(ids.begin(), tokenizer_.bos());
  }
  return ids;
}

std::vector<int32_t> PromptTokenizer::tokenize_ids(const jinja::Text& prompt) const {
  std::vector<int32_t> ids;
  std::string plain;  // text since the last special token, from either side
  auto flush = [&] {
    if (plain.empty()) return;
    const std::vector<int32_t> part = tokenize_text(tokenizer_, plain, /*parse_special=*/false);
    ids.insert(ids.end(), part.begin(), part.end());
    plain.clear();
  };
  for (const jinja::Text::Run& run : prompt.runs()) {
    if (run.from_request) {
      plain.append(run.text);
      continue;
    }
    size_t i = 0;
    while (i < run.text.size()) {
      size_t len = 0;
      const int32_t id = special_at(run.text, i, len);
      if (id < 0) {
        plain += run.text[i++];
        continue;
      }
      flush();
      ids.push_back(id);
      i += len;
    }
  }
  flush();
  return ids;
}

}  // namespace llmops::server
