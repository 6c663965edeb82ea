#include "tensor.h"

#include <stdexcept>

#include "kquants.h"
#include "quant.h"

namespace llmops::engine {

namespace {

constexpr TensorType kAllTypes[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16,
                                    TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_K,
                                    TensorType::Q5_K, TensorType::Q6_K};

// Bytes of one block of block_elements(type) elements.
size_t block_bytes(TensorType type) {
  switch (type) {
    case TensorType::F32:
      return 4;
    case TensorType::F16:
    case TensorType::BF16:
      return 2;
    case TensorType::Q4_0:
      return sizeof(BlockQ4_0);
    case TensorType::Q8_0:
      return sizeof(BlockQ8_0);
    case TensorType::Q4_K:
      return sizeof(BlockQ4_K);
    case TensorType::Q5_K:
      return sizeof(BlockQ5_K);
    case TensorType::Q6_K:
      return sizeof(BlockQ6_K);
  }
  throw std::invalid_argument("unsupported tensor type id " +
                              std::to_string(static_cast<uint32_t>(type)));
}

}  // namespace

bool is_supported_type(uint32_t id) {
  for (TensorType t : kAllTypes) {
    if (static_cast<uint32_t>(t) == id) return true;
  }
  return false;
}

std::string_view type_name(TensorType type) {
  switch (type) {
    case TensorType::F32:
      return "f32";
    case TensorType::F16:
      return "f16";
    case TensorType::BF16:
      return "bf16";
    case TensorType::Q4_0:
      return "q4_0";
    case TensorType::Q8_0:
      return "q8_0";
    case TensorType::Q4_K:
      return "q4_k";
    case TensorType::Q5_K:
      return "q5_k";
    case TensorType::Q6_K:
      return "q6_k";
  }
  return "unknown";
}

TensorType parse_type_name(std::string_view name) {
  for (TensorType t : kAllTypes) {
    if (type_name(t) == name) return t;
  }
  throw std::invalid_argument("unknown tensor type '" + std::string(name) +
                              "' (expected f32, f16, bf16, q8_0, q4_0, q4_k, q5_k or q6_k)");
}

int64_t block_elements(TensorType type) {
  switch (type) {
    case TensorType::Q4_0:
    case TensorType::Q8_0:
      return kQuantBlock;
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K:
      return kSuperBlock;
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16:
      break;
  }
  return 1;
}

bool is_quantized(TensorType type) {
  return block_elements(type) > 1;
}

bool is_kquant(TensorType type) {
  return block_elements(type) == kSuperBlock;
}

size_t row_bytes(TensorType type, int64_t n) {
  if (n < 0) throw std::invalid_argument("negative row length");
  const int64_t block = block_elements(type);
  if (n % block != 0) {
    throw std::invalid_argument("row of " + std::to_string(n) + " elements is not a multiple of " +
                                std::to_string(block) + " for type " +
                                std::string(type_name(type)));
  }
  return static_cast<size_t>(n / block) * block_bytes(type);
}

}  // namespace llmops::engine
