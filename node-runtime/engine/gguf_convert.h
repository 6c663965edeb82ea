// `llmops-runtime convert` of a GGUF file into another type: each weight matrix decoded
// to floats and encoded in the type a TensorTypePlan gives it (copied as it is when that
// type is its own), every other tensor and all metadata copied, general.file_type and
// general.quantization_version set for the new type.
#pragma once

#include <string>

#include "quant_mix.h"

namespace llmops::engine {

struct GgufConvertOptions {
  std::string in;   // a GGUF file with tensors of types we decode
  std::string out;  // written atomically
  FileType type;
};
// Throws ModelError naming the file, key or tensor at fault (the mixes need
// <general.architecture>.block_count).
void convert_gguf(const GgufConvertOptions& options);

// Whether the file at `path` starts with the GGUF magic (false when it cannot be read).
bool is_gguf_file(const std::string& path);

}  // namespace llmops::engine
