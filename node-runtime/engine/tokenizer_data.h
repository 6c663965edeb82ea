// Internal to the tokenizer: the vocabulary and the indexes built from it once, shared by
// the SentencePiece and byte-level BPE encoders (spm_tokenizer.cpp, bpe_tokenizer.cpp)
// and the special-token splitter (special_tokens.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vocab.h"

namespace llmops::engine {

// Finds the special tokens (control, user-defined, unknown) in text, as llama.cpp's
// tokenizer_st_partition does: longest token texts first, each taking its occurrences
// left to right in the text that no longer token took.
class SpecialTokenMatcher {
 public:
  void build(const Vocab& vocab);
  struct Fragment {
    int32_t token;  // -1: raw text [begin, end)
    size_t begin;
    size_t end;
  };
  // With parse_special false only user-defined tokens are matched.
  std::vector<Fragment> split(std::string_view text, bool parse_special) const;

 private:
  // A byte trie of the special tokens' texts: edges (node << 8 | byte) → node, and the
  // token whose text ends at each node (-1: none). Node 0 is the root.
  std::unordered_map<uint64_t, int32_t> edges_;
  std::vector<int32_t> node_token_;
  std::vector<int32_t> priority_;  // per token id: rank in longest-first order, or -1
  const Vocab* vocab_ = nullptr;
};

struct MergeResult {
  int32_t rank;
  int32_t merged;
};

struct TokenizerData {
  Vocab vocab;
  std::unordered_map<std::string_view, int32_t> piece_to_id;  // views into vocab.pieces
  int32_t byte_token[256] = {};  // SentencePiece <0xHH> ids, -1 when absent
  SpecialTokenMatcher specials;
  // Byte-level BPE: (left id << 32 | right id) → rank and merged id.
  std::unordered_map<uint64_t, MergeResult> merges;
  std::vector<int32_t> end_of_generation;

  int32_t find(std::string_view piece) const {
    const auto it = piece_to_id.find(piece);
    return it == piece_to_id.end() ? -1 : it->second;
  }
};

// SentencePiece: appends the tokens of raw text, prefixed with a space when asked.
void spm_tokenize(const TokenizerData& d, std::string_view text, bool space_prefix,
                  std::vector<int32_t>& out);
// Byte-level BPE: pre-tokenizes, maps bytes to GPT-2's characters, merges by rank.
void bpe_tokenize(const TokenizerData& d, std::string_view text, std::vector<int32_t>& out);
// Builds d.merges from d.vocab.merges; throws ModelError for a malformed merge or one
// whose parts or result are not tokens.
void bpe_build_merges(TokenizerData& d);
// GPT-2's byte-level mapping of a piece back to bytes (characters outside the mapping
// are kept as their UTF-8).
std::string bpe_piece_bytes(std::string_view piece);
// GPT-2's byte-level mapping of raw bytes to the characters pieces are spelled with.
std::string bpe_bytes_to_piece(std::string_view bytes);

}  // namespace llmops::engine
