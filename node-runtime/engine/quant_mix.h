// Which type each tensor of a model file gets for `convert --type` / `make-model --type`:
// one type for every weight matrix, or one of llama.cpp's K-quant mixes (Q4_K_M, Q5_K_M)
// that give the classifier, some attn_v and some ffn_down matrices more bits, with
// llama.cpp's fallbacks for rows that are not a whole number of blocks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tensor.h"

namespace llmops::engine {

struct FileType {
  TensorType type = TensorType::F32;  // the bulk of the weight matrices
  bool mix = false;                   // llama.cpp's "_M" rules (type Q4_K or Q5_K)

  FileType() = default;
  FileType(TensorType t) : type(t) {}  // NOLINT(google-explicit-constructor): a uniform type
  FileType(TensorType t, bool m) : type(t), mix(m) {}
  bool operator==(const FileType&) const = default;
};

// "f32", "f16", "bf16", "q8_0", "q4_0", "q4_k", "q5_k", "q6_k" (uniform) and "q4_k_m",
// "q5_k_m" (mixes); throws std::invalid_argument naming the accepted ones otherwise.
FileType parse_file_type(std::string_view name);
std::string file_type_name(FileType type);
// general.file_type: llama.cpp's LLAMA_FTYPE_* (uniform q4_k / q5_k as its Q4_K_S / Q5_K_S).
uint32_t llama_file_type(FileType type);

// The per-tensor choice for one model. Rules as llama.cpp's quantizer applies them
// (llama_tensor_get_type) for the file types above, without importance matrices and
// without its special cases for MoE, Falcon and 70B models:
//  - only weight matrices are re-typed: names ending in "weight", 2+ dimensions, not
//    norms ("_norm.weight") or expert routers ("ffn_gate_inp"); others keep their type;
//  - q4_k_m / q5_k_m: the classifier (output.weight, or token_embd.weight when the model
//    has no output.weight) gets Q6_K; attn_v and ffn_down get Q6_K in the layers where
//    use_more_bits(layer, layers) holds (the first and last eighth and every third layer
//    between); fused attn_qkv one K type up;
//  - rows that are not a whole number of blocks of the chosen type fall back: Q6_K →
//    Q8_0, Q4_K / Q5_K → Q8_0 (llama.cpp: Q5_0 / Q5_1, types we do not have), then F16
//    when even 32 does not divide the rows; Q8_0 / Q4_0 → F16.
class TensorTypePlan {
 public:
  // n_layers: the model's block count; has_output: whether the model has an output.weight
  // of its own (else token_embd.weight is the classifier).
  TensorTypePlan(FileType file_type, int n_layers, bool has_output);

  // The type of tensor `name` with dims (fastest-varying first) whose type is now `current`.
  TensorType type_for(std::string_view name, const std::vector<int64_t>& dims,
                      TensorType current) const;

  static bool use_more_bits(int layer, int n_layers);

 private:
  FileType file_type_;
  int n_layers_;
  bool has_output_;
};

}  // namespace llmops::engine
