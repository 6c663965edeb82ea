// Tensor types and read-only 2-D views over weights (usually inside an mmap'd file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmops::engine {

// Values are the GGUF / ggml type ids.
enum class TensorType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q8_0 = 8,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  BF16 = 30,
};

inline constexpr int64_t kQuantBlock = 32;   // elements per Q8_0 / Q4_0 block
inline constexpr int64_t kSuperBlock = 256;  // elements per Q4_K / Q5_K / Q6_K super-block

// Known type id? (GGUF files may carry ids we do not support.)
bool is_supported_type(uint32_t id);
std::string_view type_name(TensorType type);
// Parses "f32", "f16", "bf16", "q8_0", "q4_0", "q4_k", "q5_k", "q6_k"; throws
// std::invalid_argument otherwise.
TensorType parse_type_name(std::string_view name);
// Bytes of a row of `n` elements; n must be a multiple of block_elements(type) (throws
// otherwise).
size_t row_bytes(TensorType type, int64_t n);
// Elements per block: 1 for F32 / F16 / BF16, 32 for Q8_0 / Q4_0, 256 for the K-quants.
int64_t block_elements(TensorType type);
bool is_quantized(TensorType type);  // block-quantized (Q8_0, Q4_0 and the K-quants)
bool is_kquant(TensorType type);     // Q4_K, Q5_K, Q6_K

// A matrix of `rows` rows of `cols` elements each, row-major, in `type`'s encoding.
// A 1-D tensor is a single row. Views never own their bytes.
struct TensorView {
  std::string name;
  TensorType type = TensorType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  const void* data = nullptr;

  size_t row_size() const { return row_bytes(type, cols); }
  size_t size_bytes() const { return row_size() * static_cast<size_t>(rows); }
  const uint8_t* row(int64_t r) const {
    return static_cast<const uint8_t*>(data) + row_size() * static_cast<size_t>(r);
  }
  const float* f32() const { return static_cast<const float*>(data); }
};

}  // namespace llmops::engine
