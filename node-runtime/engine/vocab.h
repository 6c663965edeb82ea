// The data of a SentencePiece-style vocabulary, as both tokenizer.bin and GGUF metadata
// carry it. Pieces use a plain space (GGUF's U+2581 "▁" is converted on load/save).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llmops::engine {

// GGUF tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6
};

struct Vocab {
  std::vector<std::string> pieces;  // byte tokens are spelled "<0xHH>"
  std::vector<float> scores;
  std::vector<TokenType> types;
  int32_t bos_id = 1;
  int32_t eos_id = 2;
  int32_t unk_id = 0;

  size_t size() const { return pieces.size(); }
};

}  // namespace llmops::engine
