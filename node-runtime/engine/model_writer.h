// Writing GGUF models: llama2.c checkpoint conversion and random-weight models.
#pragma once

#include <cstdint>
#include <string>

#include "quant_mix.h"
#include "tensor.h"

namespace llmops::engine {

// `llmops-runtime convert`: llama2.c checkpoint (+ tokenizer.bin) -> GGUF v3. Q/K are
// copied as they are (both formats rotate adjacent pairs). Weight matrices get the types
// a TensorTypePlan (quant_mix.h) chooses for `type`, with its fallbacks for rows that are
// not a whole number of blocks; norms stay F32.
struct ConvertOptions {
  std::string in;         // llama2.c checkpoint
  std::string tokenizer;  // tokenizer.bin; required (a llama2.c file carries none)
  std::string out;        // .gguf path
  FileType type = TensorType::F32;
};
void convert_llama2c_to_gguf(const ConvertOptions& options);

// `llmops-runtime make-model`: a GGUF of a supported architecture (model_arch.h) with
// random weights of realistic scale. Without vocab_from, a byte-level vocabulary (<unk>,
// <s>, </s>, 256 byte tokens, "▁" for a space); else a llama2.c tokenizer.bin, or a Hugging Face
// tokenizer.json or its folder (hf_vocab.h), whose chat template the file carries too.
struct MakeModelOptions {
  std::string arch = "llama";
  int dim = 288;
  int hidden_dim = 768;
  int n_layers = 6;
  int n_heads = 6;
  int n_kv_heads = 6;
  int head_dim = 0;  // 0: dim / n_heads
  int context_length = 256;
  int sliding_window = 0;   // gemma3; 0: 512
  float rope_theta = 0.0f;  // 0: 10000 for llama, 1e6 for the others
  bool rope_freqs = false;  // llama: a Llama 3.1 rope_freqs tensor (model_writer.cpp)
  bool tied = false;        // no output.weight: the classifier is token_embd
  std::string vocab_from;
  std::string pre;  // byte-level BPE: another pre-tokenizer than the vocabulary's
  FileType type = TensorType::F32;
  std::string out;
  uint64_t seed = 1;
};
void make_model(const MakeModelOptions& options);

}  // namespace llmops::engine
