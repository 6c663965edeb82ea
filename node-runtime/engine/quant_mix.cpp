#include "quant_mix.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace llmops::engine {

namespace {

struct NamedFileType {
  std::string_view name;
  FileType type;
  uint32_t llama_ftype;
};

const NamedFileType kFileTypes[] = {
    {"f32", FileType(TensorType::F32), 0},
    {"f16", FileType(TensorType::F16), 1},
    {"bf16", FileType(TensorType::BF16), 32},
    {"q8_0", FileType(TensorType::Q8_0), 7},
    {"q4_0", FileType(TensorType::Q4_0), 2},
    {"q4_k", FileType(TensorType::Q4_K), 14},
    {"q5_k", FileType(TensorType::Q5_K), 16},
    {"q6_k", FileType(TensorType::Q6_K), 18},
    {"q4_k_m", FileType(TensorType::Q4_K, true), 15},
    {"q5_k_m", FileType(TensorType::Q5_K, true), 17},
};

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// N of a "blk.N." name, or -1.
int layer_of(std::string_view name) {
  constexpr std::string_view kPrefix = "blk.";
  if (name.substr(0, kPrefix.size()) != kPrefix) return -1;
  int layer = -1;
  const char* begin = name.data() + kPrefix.size();
  const auto [end, ec] = std::from_chars(begin, name.data() + name.size(), layer);
  if (ec != std::errc() || end == name.data() + name.size() || *end != '.') return -1;
  return layer;
}

// The type rows of `cols` elements can have instead of `type` (llama.cpp's fallbacks,
// with Q8_0 standing in for its Q5_0 / Q5_1).
TensorType fit_rows(TensorType type, int64_t cols) {
  if (cols % block_elements(type) == 0) return type;
  TensorType fallback = TensorType::F16;
  if (is_kquant(type)) fallback = TensorType::Q8_0;
  if (cols % block_elements(fallback) != 0) fallback = TensorType::F16;
  return fallback;
}

}  // namespace

FileType parse_file_type(std::string_view name) {
  for (const NamedFileType& t : kFileTypes) {
    if (t.name == name) return t.type;
  }
  std::string names;
  for (const NamedFileType& t : kFileTypes)
    names += (names.empty() ? "" : ", ") + std::string(t.name);
  throw std::invalid_argument("unknown type '" + std::string(name) + "' (expected one of " + names +
                              ")");
}

std::string file_type_name(FileType type) {
  for (const NamedFileType& t : kFileTypes) {
    if (t.type == type) return std::string(t.name);
  }
  return std::string(type_name(type.type)) + (type.mix ? "_m" : "");
}

uint32_t llama_file_type(FileType type) {
  for (const NamedFileType& t : kFileTypes) {
    if (t.type == type) return t.llama_ftype;
  }
  throw std::invalid_argument("no llama.cpp file type for " + file_type_name(type));
}

TensorTypePlan::TensorTypePlan(FileType file_type, int n_layers, bool has_output)
    : file_type_(file_type), n_layers_(n_layers), has_output_(has_output) {
  if (file_type.mix && file_type.type != TensorType::Q4_K && file_type.type != TensorType::Q5_K) {
    throw std::invalid_argument("the _m mixes exist for q4_k and q5_k only");
  }
}

bool TensorTypePlan::use_more_bits(int layer, int n_layers) {
  return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

TensorType TensorTypePlan::type_for(std::string_view name, const std::vector<int64_t>& dims,
                                    TensorType current) const {
  constexpr std::string_view kWeight = "weight";
  const bool is_weight_matrix =
      name.size() >= kWeight.size() && name.substr(name.size() - kWeight.size()) == kWeight &&
      dims.size() >= 2 && !contains(name, "_norm.weight") && !contains(name, "ffn_gate_inp.weight");
  if (!is_weight_matrix) return current;
  const int64_t cols = dims[0];
  TensorType type = file_type_.type;
  if (file_type_.mix) {
    const bool medium4 = file_type_.type == TensorType::Q4_K;
    const int layer = std::max(0, layer_of(name));
    if (name == "output.weight" || (!has_output_ && name == "token_embd.weight")) {
      // llama.cpp decides the classifier here, Q8_0 for rows Q6_K cannot hold.
      type = cols % kSuperBlock == 0 ? TensorType::Q6_K : TensorType::Q8_0;
    } else if (contains(name, "attn_v.weight")) {
      if (use_more_bits(layer, n_layers_)) type = TensorType::Q6_K;
    } else if (contains(name, "ffn_down")) {
      if (use_more_bits(layer, n_layers_)) type = TensorType::Q6_K;
    } else if (contains(name, "attn_qkv.weight")) {
      type = medium4 ? TensorType::Q5_K : TensorType::Q6_K;
    }
  }
  return fit_rows(type, cols);
}

}  // namespace llmops::engine
