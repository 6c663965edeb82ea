// SentencePiece-style BPE tokenizer as llama2.c and llama.cpp ("llama" vocab) implement
// it: dummy-prefix space, merges of the adjacent pair whose merged piece scores highest,
// byte fallback to <0xHH> tokens; decoding strips the space after BOS.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vocab.h"

namespace llmops::engine {

// llama2.c tokenizer.bin: uint32 max_token_length, then per token float32 score,
// int32 length, bytes, to the end of the file (it has no count of its own: callers
// compare the size with the model's). BOS 1, EOS 2, UNK 0; types inferred (ids 0..2
// unknown/control, "<0xHH>" byte, else normal). Throws ModelError naming `name`.
Vocab parse_tokenizer_bin(const uint8_t* data, size_t size, const std::string& name);
Vocab load_tokenizer_bin(const std::string& path);

// <unk>, <s>, </s>, then the 256 byte tokens <0x00>..<0xFF> (ids 3..258).
Vocab make_byte_vocab();

class Tokenizer {
 public:
  // Validates (non-empty, equal sizes, BOS/EOS/UNK in range, no NaN score, Byte tokens
  // spelled <0xHH>); throws ModelError. Duplicate pieces are allowed: lookups find the
  // lowest id (llama2.c's bsearch would find an arbitrary one).
  explicit Tokenizer(Vocab vocab);

  // Encodes text as llama2.c does (a leading space added when text is not empty). BOS is
  // never merged with the text's tokens; bytes of characters absent from the vocabulary
  // become byte tokens, or one UNK per character when the vocabulary lacks one of them.
  // `dummy_prefix` false skips the leading space (text that continues a sequence, e.g.
  // after a special token in a chat template).
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool add_eos = false,
                              bool dummy_prefix = true) const;
  // The id of the piece spelled exactly `piece` (e.g. a chat template's "<|im_end|>"),
  // or -1 when the vocabulary has none.
  int32_t find_piece(std::string_view piece) const;
  // The raw bytes of `token` when it follows `prev` (space after BOS stripped, <0xHH>
  // pieces become their byte, control tokens become ""). Throws std::out_of_range for an
  // id outside the vocabulary.
  std::string decode_piece(int32_t prev, int32_t token) const;
  // Bytes of a whole sequence (ids[0] may be BOS), made valid UTF-8 (invalid → U+FFFD).
  std::string decode(const std::vector<int32_t>& ids) const;

  const Vocab& vocab() const { return vocab_; }
  size_t size() const { return vocab_.size(); }
  int32_t bos() const { return vocab_.bos_id; }
  int32_t eos() const { return vocab_.eos_id; }

 private:
  // Transparent hash so merges look up a reused buffer without building a std::string.
  struct PieceHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  // Appends the tokens of one UTF-8 "character" chunk that is not a piece itself.
  void append_byte_fallback(std::string_view chunk, std::vector<int32_t>& out) const;
  // Merges `symbols` in place: best-scoring adjacent pair first, leftmost on ties.
  void merge_pairs(std::vector<int32_t>& symbols) const;

  Vocab vocab_;
  std::unordered_map<std::string, int32_t, PieceHash, std::equal_to<>> piece_to_id_;
  int32_t byte_token_[256] = {};  // id of <0xHH>, or -1
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
