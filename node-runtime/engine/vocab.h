// The data of a vocabulary, as GGUF metadata (tokenizer.ggml.*) and llama2.c's
// tokenizer.bin carry it. Pieces are spelled as GGUF stores them: SentencePiece pieces
// with U+2581 "▁" for a space (tokenizer.bin's plain spaces are converted on load),
// byte-level BPE pieces in GPT-2's byte-to-character mapping ("Ġ" for a space),
// user-defined and control tokens as the text they match.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pre_tokenizer.h"

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

// tokenizer.ggml.model: "llama" (SentencePiece, merges by piece score with byte fallback)
// or "gpt2" (byte-level BPE, merges by rank after a pre-tokenizer).
enum class VocabModel { SentencePiece, BytePairEncoding };

// How a SentencePiece vocabulary splits and merges, for the two programs we must agree
// with: llama.cpp (GGUF files) and llama2.c's run.c (tokenizer.bin). They differ only on
// invalid UTF-8, on pairs scoring -1e10 or less (run.c never merges them) and on which id
// a duplicated piece means (llama.cpp: the last; run.c as we implement it: the first).
enum class SpmFlavour { LlamaCpp, RunC };

struct Vocab {
  VocabModel model = VocabModel::SentencePiece;
  SpmFlavour spm_flavour = SpmFlavour::LlamaCpp;
  PreTokenizer pre = PreTokenizer::Default;  // byte-level BPE only
  std::vector<std::string> pieces;
  std::vector<float> scores;
  std::vector<TokenType> types;
  std::vector<std::string> merges;  // byte-level BPE: "left right", highest priority first
  int32_t bos_id = 1;
  int32_t eos_id = 2;
  int32_t unk_id = 0;   // -1: none
  int32_t eot_id = -1;  // end of turn (e.g. <|eot_id|>), -1: none
  int32_t eom_id = -1;  // end of message (<|eom_id|>), -1: none
  bool add_bos = true;
  bool add_eos = false;
  bool add_space_prefix = true;  // SentencePiece: a space before text at the start

  size_t size() const { return pieces.size(); }
};

}  // namespace llmops::engine
