// llama2.c checkpoints (fp32 `.bin`, see ../shared/notes/runtime.md): a 7 x int32 header,
// then the weights in a fixed order. Views point straight into the file's bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "model.h"

namespace llmops::engine {

inline constexpr size_t kLlama2cHeaderBytes = 7 * sizeof(int32_t);

// The header's values, validated, and the file size they imply.
struct Llama2cLayout {
  ModelConfig config;
  bool shared_classifier = true;  // vocab_size > 0 in the header
  uint64_t expected_bytes = 0;
};

// Reads and validates the header of `size` bytes at `data` (positive, consistent and
// bounded fields; file size exactly as implied). Throws ModelError naming `name`.
Llama2cLayout parse_llama2c_layout(const uint8_t* data, size_t size, const std::string& name);

// A Model whose F32 views point into `data`, which must outlive it and be 4-byte
// aligned (an mmap is). Sets path and format; `file` is left for the caller to fill.
Model model_from_llama2c(const uint8_t* data, size_t size, const std::string& name);

}  // namespace llmops::engine
