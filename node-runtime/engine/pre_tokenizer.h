// Pre-tokenizers of byte-level BPE vocabularies (GGUF `tokenizer.ggml.pre`): split text
// into the words that BPE merges never cross, as the Hugging Face tokenizers' Split
// regexes do (and llama.cpp with them). Hand-written matchers, one per regex family, over
// code points classified by unicode.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmops::engine {

enum class PreTokenizer {
  // "default": llama.cpp's fallback chain — runs of punctuation and $+<=>^~|, then GPT-2's
  // regex, then runs of numbers, then ASCII digit triples — each splitting the pieces of
  // the previous one.
  Default,
  // "gpt-2": 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  Gpt2,
  // "llama-bpe" (Llama 3): (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
  //   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+   (and words that are whole
  //   tokens skip the merges)
  Llama3,
  // "qwen2": the Llama 3 regex with single digits (\p{N} instead of \p{N}{1,3}).
  Qwen2,
  // "smollm": every number on its own, then GPT-2's regex.
  Smollm,
};

// The pre-tokenizer of a `tokenizer.ggml.pre` name, or nullopt for a name we do not know.
std::optional<PreTokenizer> parse_pre_tokenizer(std::string_view name);
std::string_view pre_tokenizer_name(PreTokenizer pre);
// The names parse_pre_tokenizer accepts, for error messages.
std::string supported_pre_tokenizers();

// Splits UTF-8 text into words (UTF-8 again; bytes that are not valid UTF-8 become
// U+FFFD). Concatenated, the words are the text.
std::vector<std::string> pre_tokenize(PreTokenizer pre, std::string_view text);

}  // namespace llmops::engine
