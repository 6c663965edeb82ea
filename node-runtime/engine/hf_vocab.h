// A vocabulary from a Hugging Face tokenizer.json (and the tokenizer_config.json beside
// it), as `make-model --vocab-from` writes it into GGUF so that llama.cpp and we read the
// same thing:
//   byte-level BPE (Llama 3, Qwen): tokenizer.ggml.model "gpt2", the pre-tokenizer named
//     from the Split regex ("llama-bpe", "qwen2") or "gpt-2" for a plain ByteLevel, the
//     merges in order;
//   BPE with byte fallback over "▁" (Gemma, Llama 2): "llama" (SentencePiece), each
//     piece scored by minus the rank of the first merge that makes it, <0xHH> byte
//     tokens, a space prefix only when the normalizer prepends "▁".
// Added tokens marked special, or spelled like one (<|...|>, <unused…>, <mask>,
// [multimodal]), are control tokens; the other added tokens are user-defined. BOS/EOS/UNK
// come from tokenizer_config.json; BOS is added when the config says so, else when the
// post-processor puts BOS first, else for Llama 3's pre-tokenizer (llama.cpp's default).
#pragma once

#include <string>

#include "vocab.h"

namespace llmops::engine {

struct HfTokenizer {
  Vocab vocab;
  std::string chat_template;  // tokenizer_config.json "chat_template", or ""
};

// `path` is a tokenizer.json file or a folder holding one; tokenizer_config.json is read
// from the same folder when present. Throws ModelError naming the file and what is wrong
// (unsupported model type or pre-tokenizer, merges referencing unknown tokens, ...).
HfTokenizer load_hf_tokenizer(const std::string& path);

}  // namespace llmops::engine
