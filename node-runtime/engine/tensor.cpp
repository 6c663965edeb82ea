#include "tensor.h"

#include <stdexcept>

#include "quant.h"

namespace llmops::engine {

bool is_supported_type(uint32_t id) {
  switch (static_cast<TensorType>(id)) {
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::Q4_0:
    case TensorType::Q8_0:
      return true;
  }
  return false;
}

std::string_view type_name(TensorType type) {
  switch (type) {
    case TensorType::F32:
      return "f32";
    case TensorType::F16:
      return "f16";
    case TensorType::Q4_0:
      return "q4_0";
    case TensorType::Q8_0:
      return "q8_0";
  }
  return "unknown";
}

TensorType parse_type_name(std::string_view name) {
  for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::Q4_0, TensorType::Q8_0}) {
    if (type_name(t) == name) return t;
  }
  throw std::invalid_argument("unknown tensor type '" + std::string(name) +
                              "' (expected f32, f16, q8_0 or q4_0)");
}

bool is_quantized(TensorType type) {
  return type == TensorType::Q4_0 || type == TensorType::Q8_0;
}

size_t row_bytes(TensorType type, int64_t n) {
  if (n < 0) throw std::invalid_argument("negative row length");
  const auto un = static_cast<size_t>(n);
  switch (type) {
    case TensorType::F32:
      return un * 4;
    case TensorType::F16:
      return un * 2;
    case TensorType::Q4_0:
    case TensorType::Q8_0:
      if (n % kQuantBlock != 0) {
        throw std::invalid_argument(
            "row of " + std::to_string(n) + " elements is not a multiple of " +
            std::to_string(kQuantBlock) + " for type " + std::string(type_name(type)));
      }
      return un / kQuantBlock * (type == TensorType::Q4_0 ? sizeof(BlockQ4_0) : sizeof(BlockQ8_0));
  }
  throw std::invalid_argument("unsupported tensor type id " +
                              std::to_string(static_cast<uint32_t>(type)));
}

}  // namespace llmops::engine
