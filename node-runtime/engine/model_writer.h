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

// `llmops-runtime make-model`: a Llama GGUF with random weights of realistic scale.
// Without vocab_from, a byte-level vocabulary (<unk>, <s>, </s>, 256 byte tokens).
struct MakeModelOptions {
  int dim = 288;
  int hidden_dim = 768;
  int n_layers = 6;
  int n_heads = 6;
  int n_kv_heads = 6;
  int context_length = 256;
  std::string vocab_from;  // tokenizer.bin path, optional
  FileType type = TensorType::F32;
  std::string out;
  uint64_t seed = 1;
};
void make_model(const MakeModelOptions& options);

}  // namespace llmops::engine
