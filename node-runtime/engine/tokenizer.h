// The tokenizer of a model: SentencePiece ("llama" vocabularies: llama2.c, Llama 2,
// Gemma) and byte-level BPE ("gpt2" vocabularies: Llama 3, Qwen) behind one interface,
// with llama.cpp's semantics for special tokens. tokenize() is llama.cpp's
// llama_tokenize(add_special = false); encode() adds BOS/EOS around plain text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vocab.h"

namespace llmops::engine {

// llama2.c tokenizer.bin: uint32 max_token_length, then per token float32 score,
// int32 length, bytes, to the end of the file (it has no count of its own: callers
// compare the size with the model's). BOS 1, EOS 2, UNK 0; types inferred (ids 0..2
// unknown/control, "<0xHH>" byte, else normal); spaces become "▁"; run.c's merge rules
// (SpmFlavour::RunC). Throws ModelError naming `name`.
Vocab parse_tokenizer_bin(const uint8_t* data, size_t size, const std::string& name);
Vocab load_tokenizer_bin(const std::string& path);

// <unk>, <s>, </s>, then the 256 byte tokens <0x00>..<0xFF> (ids 3..258).
Vocab make_byte_vocab();

struct TokenizerData;  // tokenizer_data.h

class Tokenizer {
 public:
  // Validates the vocabulary (non-empty, equal sizes, special ids in range, no NaN score,
  // Byte tokens spelled <0xHH>, BPE merges whose pieces and results are tokens); throws
  // ModelError naming what is wrong.
  explicit Tokenizer(Vocab vocab);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // llama.cpp's llama_tokenize(text, add_special = false, parse_special): no BOS/EOS.
  // User-defined tokens are always matched as whole tokens; with parse_special, control
  // tokens' texts (e.g. "<|im_end|>") become their ids too, otherwise they are plain
  // text. SentencePiece vocabularies with a space prefix add one at the start of the
  // text and after every special token.
  std::vector<int32_t> tokenize(std::string_view text, bool parse_special) const;

  // Plain text (no special tokens recognised), with BOS/EOS when asked. `dummy_prefix`
  // false skips SentencePiece's leading space (text that continues a sequence).
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool add_eos = false,
                              bool dummy_prefix = true) const;
  // Plain text with BOS/EOS as the vocabulary asks (tokenizer.ggml.add_bos_token /
  // add_eos_token): what a prompt becomes.
  std::vector<int32_t> encode_prompt(std::string_view text) const;

  // The id of the piece spelled exactly `piece` as the vocabulary stores it (e.g. a chat
  // template's "<|im_end|>"), or -1 when the vocabulary has none.
  int32_t find_piece(std::string_view piece) const;
  // The raw bytes of `token` when it follows `prev` (SentencePiece: "▁" is a space, the
  // space after BOS is stripped when the vocabulary adds a space prefix, <0xHH> pieces
  // become their byte; byte-level BPE: GPT-2's character-to-byte mapping, user-defined
  // tokens as they are spelled; control tokens: ""). Throws std::out_of_range for an id
  // outside the vocabulary.
  std::string decode_piece(int32_t prev, int32_t token) const;
  // Bytes of a whole sequence (ids[0] may be BOS), made valid UTF-8 (invalid → U+FFFD).
  std::string decode(const std::vector<int32_t>& ids) const;

  const Vocab& vocab() const;
  size_t size() const { return vocab().size(); }
  int32_t bos() const { return vocab().bos_id; }  // -1 when the vocabulary has none
  int32_t eos() const { return vocab().eos_id; }  // -1 when the vocabulary has none
  int32_t eot() const { return vocab().eot_id; }  // end of turn, -1 when none
  int32_t eom() const { return vocab().eom_id; }  // end of message, -1 when none
  bool add_bos() const { return vocab().add_bos; }
  bool add_eos() const { return vocab().add_eos; }
  // llama.cpp's "end of generation" set: EOS, EOT, EOM and the tokens spelled like a
  // well-known end of turn (<|eot_id|>, <|im_end|>, <end_of_turn>, <|endoftext|>, ...).
  const std::vector<int32_t>& end_of_generation() const;
  bool is_end_of_generation(int32_t token) const;

 private:
  // Appends the tokens of raw text (no special tokens in it).
  void tokenize_text(std::string_view text, bool space_prefix, std::vector<int32_t>& out) const;

  std::unique_ptr<TokenizerData> d_;  // behind a pointer: its indexes point into itself
};

// Streams bytes out as valid UTF-8: holds back an incomplete trailing sequence until it
// completes, replaces invalid bytes with U+FFFD. For printing tokens as they come.
class Utf8Stream {
 public:
  std::string push(std::string_view bytes);  // returns what can be emitted now
  std::string finish();                      // flushes a dangling sequence as U+FFFD

 private:
  std::string pending_;
};

}  // namespace llmops::engine
