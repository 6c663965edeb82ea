// GGUF (v3, also v2; little-endian) reading and writing. The reader parses a byte span,
// so it works on an mmap'd file and on fuzzer input alike; it validates everything it
// reads against the bytes that remain and throws ModelError("GGUF <name>: ...").
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "tensor.h"

namespace llmops::engine {

enum class GgufValueType : uint32_t {
  Uint8 = 0,
  Int8 = 1,
  Uint16 = 2,
  Int16 = 3,
  Uint32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  Uint64 = 10,
  Int64 = 11,
  Float64 = 12,
};

// "uint8", ..., "float64", "bool", "string", "array"; "type N" for unknown ids.
std::string gguf_type_name(GgufValueType type);
// Bytes of one element of a numeric or bool type; 0 for string and array.
size_t gguf_scalar_size(GgufValueType type);

// One metadata value. A scalar has elem_type == type and count 1; an array has type Array.
// Numeric and bool elements are kept as their little-endian bytes in `raw`; string
// elements in `strings`.
struct GgufValue {
  GgufValueType type = GgufValueType::Uint8;
  GgufValueType elem_type = GgufValueType::Uint8;
  uint64_t count = 1;
  std::vector<uint8_t> raw;
  std::vector<std::string> strings;

  bool is_array() const { return type == GgufValueType::Array; }

  template <typename T>
  static GgufValue scalar(T v);
  static GgufValue scalar(std::string v);
  template <typename T>
  static GgufValue array(const std::vector<T>& v);
  static GgufValue array(std::vector<std::string> v);

  template <typename T>
  static constexpr GgufValueType type_of();
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // fastest-varying first: a matrix is [cols, rows]
  TensorType type = TensorType::F32;
  uint64_t offset = 0;       // relative to the data section, as stored
  uint64_t file_offset = 0;  // absolute offset of the first byte in the file
  uint64_t n_elements = 0;
  uint64_t size_bytes = 0;
};

class GgufFile {
 public:
  // Parses and validates the header, metadata and tensor infos of `size` bytes at `data`
  // (which need not outlive the result: tensors are located by file_offset). `name`
  // (usually the path) is used in error messages.
  static GgufFile parse(const uint8_t* data, size_t size, std::string name);

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // start of the data section

  const std::vector<std::string>& keys() const { return keys_; }  // in file order
  const GgufValue* find(std::string_view key) const;
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;

  // Typed metadata. find_* returns nullopt when the key is absent; get_* throws then.
  // Both throw when the key has another type ("key K has type string, expected uint32").
  // Integer getters accept any integer type whose value fits; float getters accept
  // float32 and float64; array getters check the element type the same way.
  std::optional<uint32_t> find_u32(std::string_view key) const;
  std::optional<int32_t> find_i32(std::string_view key) const;
  std::optional<uint64_t> find_u64(std::string_view key) const;
  std::optional<float> find_f32(std::string_view key) const;
  std::optional<bool> find_bool(std::string_view key) const;
  std::optional<std::string> find_string(std::string_view key) const;
  const std::vector<std::string>* find_string_array(std::string_view key) const;
  std::optional<std::vector<float>> find_f32_array(std::string_view key) const;
  std::optional<std::vector<int32_t>> find_i32_array(std::string_view key) const;

  uint32_t get_u32(std::string_view key) const;
  int32_t get_i32(std::string_view key) const;
  uint64_t get_u64(std::string_view key) const;
  float get_f32(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  std::string get_string(std::string_view key) const;
  const std::vector<std::string>& get_string_array(std::string_view key) const;
  std::vector<float> get_f32_array(std::string_view key) const;
  std::vector<int32_t> get_i32_array(std::string_view key) const;

  // "GGUF <name>: <what>" as a ModelError, for callers validating the contents.
  [[noreturn]] void fail(const std::string& what) const;

 private:
  template <typename T>
  std::optional<T> find_int(std::string_view key, const char* expected) const;
  template <typename T>
  std::optional<std::vector<T>> find_int_array(std::string_view key, const char* expected) const;
  [[noreturn]] void missing(std::string_view key) const;
  [[noreturn]] void wrong_type(std::string_view key, const GgufValue& v,
                               const char* expected) const;

  std::string name_;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::string> keys_;
  std::map<std::string, GgufValue, std::less<>> values_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

// Builds a GGUF file: metadata in the order added, then tensor infos, then the tensor
// data, each tensor aligned to general.alignment (32 unless that key is added) with
// zero padding. Misuse (duplicate key or tensor, wrong byte count) throws
// std::invalid_argument; I/O errors throw ModelError naming the path.
class GgufWriter {
 public:
  // Produces a tensor's bytes when the file is written, so big models stream through
  // one tensor at a time. Called once per write, in the order the tensors were added.
  using TensorBytes = std::function<std::vector<uint8_t>()>;

  void add(const std::string& key, GgufValue value);
  void add_u32(const std::string& key, uint32_t v) { add(key, GgufValue::scalar(v)); }
  void add_i32(const std::string& key, int32_t v) { add(key, GgufValue::scalar(v)); }
  void add_f32(const std::string& key, float v) { add(key, GgufValue::scalar(v)); }
  void add_bool(const std::string& key, bool v) { add(key, GgufValue::scalar(v)); }
  void add_string(const std::string& key, std::string v) {
    add(key, GgufValue::scalar(std::move(v)));
  }
  void add_string_array(const std::string& key, std::vector<std::string> v) {
    add(key, GgufValue::array(std::move(v)));
  }
  void add_f32_array(const std::string& key, const std::vector<float>& v) {
    add(key, GgufValue::array(v));
  }
  void add_i32_array(const std::string& key, const std::vector<int32_t>& v) {
    add(key, GgufValue::array(v));
  }

  // `dims` fastest-varying first (a rows x cols matrix is {cols, rows}).
  void add_tensor(const std::string& name, std::vector<int64_t> dims, TensorType type,
                  std::vector<uint8_t> bytes);
  void add_tensor(const std::string& name, std::vector<int64_t> dims, TensorType type,
                  TensorBytes produce);

  // Writes to `path` atomically (a temporary file renamed into place).
  void write(const std::string& path) const;
  // The whole file in memory (tests, fuzz seeds).
  std::vector<uint8_t> to_bytes() const;

 private:
  struct PendingTensor {
    std::string name;
    std::vector<int64_t> dims;
    TensorType type;
    uint64_t size_bytes;
    TensorBytes produce;
  };
  void serialize(const std::function<void(const void*, size_t)>& sink) const;
  uint32_t alignment() const;

  std::vector<std::pair<std::string, GgufValue>> kvs_;
  std::vector<PendingTensor> tensors_;
};

// --- GgufValue templates -----------------------------------------------------------

template <typename T>
constexpr GgufValueType GgufValue::type_of() {
  if constexpr (std::is_same_v<T, bool>)
    return GgufValueType::Bool;
  else if constexpr (std::is_same_v<T, uint8_t>)
    return GgufValueType::Uint8;
  else if constexpr (std::is_same_v<T, int8_t>)
    return GgufValueType::Int8;
  else if constexpr (std::is_same_v<T, uint16_t>)
    return GgufValueType::Uint16;
  else if constexpr (std::is_same_v<T, int16_t>)
    return GgufValueType::Int16;
  else if constexpr (std::is_same_v<T, uint32_t>)
    return GgufValueType::Uint32;
  else if constexpr (std::is_same_v<T, int32_t>)
    return GgufValueType::Int32;
  else if constexpr (std::is_same_v<T, uint64_t>)
    return GgufValueType::Uint64;
  else if constexpr (std::is_same_v<T, int64_t>)
    return GgufValueType::Int64;
  else if constexpr (std::is_same_v<T, float>)
    return GgufValueType::Float32;
  else if constexpr (std::is_same_v<T, double>)
    return GgufValueType::Float64;
  else
    static_assert(!sizeof(T), "not a GGUF scalar type");
}

template <typename T>
GgufValue GgufValue::scalar(T v) {
  GgufValue out;
  out.type = out.elem_type = type_of<T>();
  if constexpr (std::is_same_v<T, bool>) {
    out.raw.push_back(v ? 1 : 0);
  } else {
    out.raw.resize(sizeof(T));
    std::memcpy(out.raw.data(), &v, sizeof(T));
  }
  return out;
}

inline GgufValue GgufValue::scalar(std::string v) {
  GgufValue out;
  out.type = out.elem_type = GgufValueType::String;
  out.strings.push_back(std::move(v));
  return out;
}

template <typename T>
GgufValue GgufValue::array(const std::vector<T>& v) {
  GgufValue out;
  out.type = GgufValueType::Array;
  out.elem_type = type_of<T>();
  out.count = v.size();
  if constexpr (std::is_same_v<T, bool>) {
    for (bool b : v) out.raw.push_back(b ? 1 : 0);
  } else {
    out.raw.resize(v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(out.raw.data(), v.data(), out.raw.size());
  }
  return out;
}

inline GgufValue GgufValue::array(std::vector<std::string> v) {
  GgufValue out;
  out.type = GgufValueType::Array;
  out.elem_type = GgufValueType::String;
  out.count = v.size();
  out.strings = std::move(v);
  return out;
}

}  // namespace llmops::engine
