// Turns a rendered chat prompt (Text that knows which bytes came from the request) into
// token ids: special-token texts are recognised only in the template's own bytes, so a
// user who types "<|im_end|>" cannot close a turn; plain text is tokenized in maximal
// fragments between special tokens (across template/request boundaries), exactly as
// llama.cpp tokenizes the whole prompt with parse_special when the request holds no
// special-token text. BOS is added when the vocabulary asks for it and the template did
// not write it; EOS never.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer.h"
#include "jinja_value.h"

namespace llmops::server {

// llama_tokenize(text, add_special = false, parse_special): Tokenizer::tokenize.
std::vector<int32_t> tokenize_text(const engine::Tokenizer& tokenizer, std::string_view text,
                                   bool parse_special);
// Whether the vocabulary wants BOS before a prompt (tokenizer.ggml.add_bos_token).
bool wants_bos(const engine::Tokenizer& tokenizer);
// End-of-turn tokens besides EOS (<|eot_id|>, <|im_end|>, <end_of_turn>, …).
std::vector<int32_t> end_of_turn_tokens(const engine::Tokenizer& tokenizer);

class PromptTokenizer {
 public:
  explicit PromptTokenizer(const engine::Tokenizer& tokenizer);

  // The prompt's ids, BOS first when the vocabulary wants it and the template wrote none.
  std::vector<int32_t> tokenize(const jinja::Text& prompt) const;
  // The same without BOS handling (llama_tokenize with add_special = false).
  std::vector<int32_t> tokenize_ids(const jinja::Text& prompt) const;
  const engine::Tokenizer& tokenizer() const { return tokenizer_; }

 private:
  // The special token spelled at s[i], longest first; -1 when none.
  int32_t special_at(std::string_view s, size_t i, size_t& len) const;

  const engine::Tokenizer& tokenizer_;
  // Control, user-defined and unknown tokens by first byte, longest first.
  std::vector<std::pair<std::string, int32_t>> specials_by_byte_[256];
};

}  // namespace llmops::server
