#include "gguf.h"

#include <bit>
#include <cerrno>
#include <cstdio>
#include <limits>
#include <memory>
#include <stdexcept>

#include "errors.h"

namespace llmops::engine {

static_assert(std::endian::native == std::endian::little,
              "GGUF values are read and written as host-order bytes");

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian uint32
constexpr uint32_t kDefaultAlignment = 32;
constexpr int kMaxDims = 4;
// Smallest encodings, to bound counts by the bytes that remain before trusting them.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;                  // empty key, type, uint8
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, 1 dim

bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

// n_elements is a whole number of blocks (the caller checked the row length).
uint64_t tensor_type_size(TensorType type, uint64_t n_elements) {
  return row_bytes(type, static_cast<int64_t>(n_elements));
}

// ggml's names for the type ids we do not support, to make the error useful.
std::string ggml_type_label(uint32_t id) {
  static const char* const kNames[] = {
      "f32",     "f16",    "q4_0",    "q4_1",  "q4_2",   "q4_3",  "q5_0",  "q5_1",
      "q8_0",    "q8_1",   "q2_K",    "q3_K",  "q4_K",   "q5_K",  "q6_K",  "q8_K",
      "iq2_xxs", "iq2_xs", "iq3_xxs", "iq1_s", "iq4_nl", "iq3_s", "iq2_s", "iq4_xs",
      "i8",      "i16",    "i32",     "i64",   "f64",    "iq1_m", "bf16"};
  std::string label = "type id " + std::to_string(id);
  if (id < std::size(kNames)) label += std::string(" (") + kNames[id] + ")";
  return label;
}

// Bounds-checked little-endian cursor over the file bytes.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size, const std::string& name)
      : data_(data), size_(size), name_(name) {}

  size_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw ModelError("GGUF " + name_ + ": " + what);
  }

  void need(uint64_t n, const std::string& what) const {
    if (n > remaining()) {
      fail("truncated at offset " + std::to_string(pos_) + " reading " + what + " (need " +
           std::to_string(n) + " bytes, " + std::to_string(remaining()) + " left)");
    }
  }

  template <typename T>
  T read(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  void read_bytes(void* out, uint64_t n, const std::string& what) {
    need(n, what);
    if (n > 0) std::memcpy(out, data_ + pos_, n);
    pos_ += n;
  }

  std::string read_string(const std::string& what) {
    const auto len = read<uint64_t>(what + " length");
    if (len > remaining()) {
      fail(what + " length " + std::to_string(len) + " exceeds the " + std::to_string(remaining()) +
           " bytes left at offset " + std::to_string(pos_));
    }
    std::string s(reinterpret_cast<const char*>(data_ + pos_), len);
    pos_ += len;
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& name_;
};

bool is_integer_type(GgufValueType t) {
  switch (t) {
    case GgufValueType::Uint8:
    case GgufValueType::Int8:
    case GgufValueType::Uint16:
    case GgufValueType::Int16:
    case GgufValueType::Uint32:
    case GgufValueType::Int32:
    case GgufValueType::Uint64:
    case GgufValueType::Int64:
      return true;
    default:
      return false;
  }
}

bool is_signed_type(GgufValueType t) {
  return t == GgufValueType::Int8 || t == GgufValueType::Int16 || t == GgufValueType::Int32 ||
         t == GgufValueType::Int64;
}

// Element i of an integer value as (negative?, magnitude) without overflow.
struct IntElement {
  bool negative;
  uint64_t magnitude;
};

IntElement int_element(const GgufValue& v, uint64_t i) {
  const size_t size = gguf_scalar_size(v.elem_type);
  const uint8_t* p = v.raw.data() + i * size;
  uint64_t bits = 0;
  std::memcpy(&bits, p, size);  // little-endian: low bytes first
  if (!is_signed_type(v.elem_type)) return {false, bits};
  const int shift = static_cast<int>(64 - 8 * size);
  const int64_t s = static_cast<int64_t>(bits << shift) >> shift;  // sign-extend
  if (s >= 0) return {false, static_cast<uint64_t>(s)};
  return {true, static_cast<uint64_t>(-(s + 1)) + 1};
}

template <typename T>
bool fits(IntElement e, T* out) {
  if (e.negative) {
    if constexpr (std::is_signed_v<T>) {
      const auto limit = static_cast<uint64_t>(-(std::numeric_limits<T>::min() + 1)) + 1;
      if (e.magnitude > limit) return false;
      *out = static_cast<T>(-static_cast<T>(e.magnitude - 1) - 1);
      return true;
    }
    return false;
  }
  if (e.magnitude > static_cast<uint64_t>(std::numeric_limits<T>::max())) return false;
  *out = static_cast<T>(e.magnitude);
  return true;
}

float float_element(const GgufValue& v, uint64_t i) {
  if (v.elem_type == GgufValueType::Float32) {
    float f;
    std::memcpy(&f, v.raw.data() + i * 4, 4);
    return f;
  }
  double d;
  std::memcpy(&d, v.raw.data() + i * 8, 8);
  return static_cast<float>(d);
}

std::string describe_type(const GgufValue& v) {
  if (v.is_array()) return "array of " + gguf_type_name(v.elem_type);
  return gguf_type_name(v.type);
}

}  // namespace

std::string gguf_type_name(GgufValueType type) {
  switch (type) {
    case GgufValueType::Uint8:
      return "uint8";
    case GgufValueType::Int8:
      return "int8";
    case GgufValueType::Uint16:
      return "uint16";
    case GgufValueType::Int16:
      return "int16";
    case GgufValueType::Uint32:
      return "uint32";
    case GgufValueType::Int32:
      return "int32";
    case GgufValueType::Float32:
      return "float32";
    case GgufValueType::Bool:
      return "bool";
    case GgufValueType::String:
      return "string";
    case GgufValueType::Array:
      return "array";
    case GgufValueType::Uint64:
      return "uint64";
    case GgufValueType::Int64:
      return "int64";
    case GgufValueType::Float64:
      return "float64";
  }
  return "type " + std::to_string(static_cast<uint32_t>(type));
}

size_t gguf_scalar_size(GgufValueType type) {
  switch (type) {
    case GgufValueType::Uint8:
    case GgufValueType::Int8:
    case GgufValueType::Bool:
      return 1;
    case GgufValueType::Uint16:
    case GgufValueType::Int16:
      return 2;
    case GgufValueType::Uint32:
    case GgufValueType::Int32:
    case GgufValueType::Float32:
      return 4;
    case GgufValueType::Uint64:
    case GgufValueType::Int64:
    case GgufValueType::Float64:
      return 8;
    case GgufValueType::String:
    case GgufValueType::Array:
      return 0;
  }
  return 0;
}

// --- Reader ------------------------------------------------------------------------

GgufFile GgufFile::parse(const uint8_t* data, size_t size, std::string name) {
  GgufFile f;
  f.name_ = std::move(name);
  Reader r(data, size, f.name_);

  if (size < 4) r.fail("file of " + std::to_string(size) + " bytes is too short for a header");
  const auto magic = r.read<uint32_t>("magic");
  if (magic != kMagic) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%08x", magic);
    r.fail(std::string("bad magic ") + hex + " (expected \"GGUF\")");
  }
  f.version_ = r.read<uint32_t>("version");
  if (f.version_ != 2 && f.version_ != 3) {
    std::string hint;
    if (f.version_ == 0x02000000u || f.version_ == 0x03000000u) {
      hint = " (a big-endian file?)";
    }
    r.fail("unsupported version " + std::to_string(f.version_) + hint + " (supported: 2 and 3)");
  }
  const auto tensor_count = r.read<uint64_t>("tensor_count");
  const auto kv_count = r.read<uint64_t>("kv_count");
  if (kv_count > r.remaining() / kMinKvBytes) {
    r.fail("kv_count " + std::to_string(kv_count) + " is more than the remaining " +
           std::to_string(r.remaining()) + " bytes can hold");
  }
  if (tensor_count > r.remaining() / kMinTensorInfoBytes) {
    r.fail("tensor_count " + std::to_string(tensor_count) + " is more than the remaining " +
           std::to_string(r.remaining()) + " bytes can hold");
  }

  // Metadata.
  f.keys_.reserve(kv_count);
  for (uint64_t k = 0; k < kv_count; ++k) {
    const std::string where = "key #" + std::to_string(k);
    std::string key = r.read_string(where);
    const std::string kname = "key " + key;
    if (f.values_.count(key) != 0) r.fail("duplicate " + kname);
    GgufValue v;
    const auto type_id = r.read<uint32_t>(kname + " type");
    if (type_id > static_cast<uint32_t>(GgufValueType::Float64)) {
      r.fail(kname + " has unknown value type id " + std::to_string(type_id));
    }
    v.type = v.elem_type = static_cast<GgufValueType>(type_id);
    if (v.type == GgufValueType::Array) {
      const auto elem_id = r.read<uint32_t>(kname + " array element type");
      if (elem_id > static_cast<uint32_t>(GgufValueType::Float64)) {
        r.fail(kname + " is an array of unknown value type id " + std::to_string(elem_id));
      }
      v.elem_type = static_cast<GgufValueType>(elem_id);
      if (v.elem_type == GgufValueType::Array) {
        r.fail(kname + " is an array of arrays (nested arrays are not supported)");
      }
      v.count = r.read<uint64_t>(kname + " array length");
    }
    if (v.elem_type == GgufValueType::String) {
      if (v.count > r.remaining() / 8) {
        r.fail(kname + ": array of " + std::to_string(v.count) + " strings exceeds the " +
               std::to_string(r.remaining()) + " bytes left");
      }
      v.strings.reserve(v.count);
      for (uint64_t i = 0; i < v.count; ++i) {
        v.strings.push_back(
            r.read_string(v.is_array() ? kname + "[" + std::to_string(i) + "]" : kname));
      }
    } else {
      const uint64_t elem = gguf_scalar_size(v.elem_type);
      if (v.count > r.remaining() / elem) {
        r.fail(kname + ": array of " + std::to_string(v.count) + " " + gguf_type_name(v.elem_type) +
               " exceeds the " + std::to_string(r.remaining()) + " bytes left");
      }
      v.raw.resize(v.count * elem);
      r.read_bytes(v.raw.data(), v.raw.size(), kname + " value");
    }
    f.keys_.push_back(key);
    f.values_.emplace(std::move(key), std::move(v));
  }

  if (auto a = f.find_u32("general.alignment")) {
    if (*a == 0 || !std::has_single_bit(*a)) {
      r.fail("general.alignment " + std::to_string(*a) + " is not a power of two");
    }
    f.alignment_ = *a;
  } else {
    f.alignment_ = kDefaultAlignment;
  }

  // Tensor infos.
  f.tensors_.reserve(tensor_count);
  for (uint64_t t = 0; t < tensor_count; ++t) {
    GgufTensorInfo info;
    info.name = r.read_string("tensor #" + std::to_string(t) + " name");
    const std::string tname = "tensor " + info.name;
    if (f.tensor_index_.count(info.name) != 0) r.fail("duplicate " + tname);
    const auto n_dims = r.read<uint32_t>(tname + " n_dims");
    if (n_dims == 0 || n_dims > kMaxDims) {
      r.fail(tname + " has " + std::to_string(n_dims) + " dimensions (expected 1.." +
             std::to_string(kMaxDims) + ")");
    }
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const auto dim = r.read<uint64_t>(tname + " dims");
      if (dim == 0) {
        r.fail(tname + " has dimension " + std::to_string(d) + " = 0 (must be positive)");
      }
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        r.fail(tname + " has dimension " + std::to_string(d) + " = " + std::to_string(dim) +
               " (too large)");
      }
      if (mul_overflows(n_elements, dim, &n_elements) ||
          n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        r.fail(tname + ": element count overflows (dimension " + std::to_string(d) + " = " +
               std::to_string(dim) + ")");
      }
      info.dims.push_back(static_cast<int64_t>(dim));
    }
    const auto type_id = r.read<uint32_t>(tname + " type");
    if (!is_supported_type(type_id)) {
      r.fail(tname + " has unsupported " + ggml_type_label(type_id) +
             " (supported: f32, f16, bf16, q4_0, q8_0, q4_K, q5_K, q6_K)");
    }
    info.type = static_cast<TensorType>(type_id);
    if (info.dims[0] % block_elements(info.type) != 0) {
      r.fail(tname + " of type " + std::string(type_name(info.type)) + " has rows of " +
             std::to_string(info.dims[0]) + " elements, not a multiple of " +
             std::to_string(block_elements(info.type)));
    }
    if (n_elements > std::numeric_limits<uint64_t>::max() / 4) {
      r.fail(tname + " has too many elements (" + std::to_string(n_elements) + ")");
    }
    info.n_elements = n_elements;
    info.size_bytes = tensor_type_size(info.type, n_elements);
    info.offset = r.read<uint64_t>(tname + " offset");
    f.tensor_index_.emplace(info.name, f.tensors_.size());
    f.tensors_.push_back(std::move(info));
  }

  // Data section: starts at the next multiple of the alignment.
  const uint64_t header_end = r.pos();
  f.data_offset_ = (header_end + f.alignment_ - 1) / f.alignment_ * f.alignment_;
  for (GgufTensorInfo& info : f.tensors_) {
    const std::string tname = "tensor " + info.name;
    if (info.offset % f.alignment_ != 0) {
      r.fail(tname + " offset " + std::to_string(info.offset) +
             " is not a multiple of the alignment " + std::to_string(f.alignment_));
    }
    const uint64_t data_size = f.data_offset_ <= size ? size - f.data_offset_ : 0;
    if (info.offset > data_size || info.size_bytes > data_size - info.offset) {
      r.fail(tname + " data (offset " + std::to_string(info.offset) + ", " +
             std::to_string(info.size_bytes) + " bytes) extends past the end of the file (" +
             std::to_string(data_size) + " bytes of data from offset " +
             std::to_string(f.data_offset_) + ")");
    }
    info.file_offset = f.data_offset_ + info.offset;
  }
  return f;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

void GgufFile::fail(const std::string& what) const {
  throw ModelError("GGUF " + name_ + ": " + what);
}

void GgufFile::missing(std::string_view key) const {
  fail("missing key " + std::string(key));
}

void GgufFile::wrong_type(std::string_view key, const GgufValue& v, const char* expected) const {
  fail("key " + std::string(key) + " has type " + describe_type(v) + ", expected " + expected);
}

template <typename T>
std::optional<T> GgufFile::find_int(std::string_view key, const char* expected) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_array() || !is_integer_type(v->type)) wrong_type(key, *v, expected);
  T out;
  const IntElement e = int_element(*v, 0);
  if (!fits(e, &out)) {
    fail("key " + std::string(key) + " value " + (e.negative ? "-" : "") +
         std::to_string(e.magnitude) + " does not fit in " + expected);
  }
  return out;
}

template <typename T>
std::optional<std::vector<T>> GgufFile::find_int_array(std::string_view key,
                                                       const char* expected) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array() || !is_integer_type(v->elem_type)) {
    wrong_type(key, *v, (std::string("array of ") + expected).c_str());
  }
  std::vector<T> out(v->count);
  for (uint64_t i = 0; i < v->count; ++i) {
    const IntElement e = int_element(*v, i);
    if (!fits(e, &out[i])) {
      fail("key " + std::string(key) + "[" + std::to_string(i) + "] value " +
           (e.negative ? "-" : "") + std::to_string(e.magnitude) + " does not fit in " + expected);
    }
  }
  return out;
}

std::optional<uint32_t> GgufFile::find_u32(std::string_view key) const {
  return find_int<uint32_t>(key, "uint32");
}
std::optional<int32_t> GgufFile::find_i32(std::string_view key) const {
  return find_int<int32_t>(key, "int32");
}
std::optional<uint64_t> GgufFile::find_u64(std::string_view key) const {
  return find_int<uint64_t>(key, "uint64");
}

std::optional<float> GgufFile::find_f32(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->type != GgufValueType::Float32 && v->type != GgufValueType::Float64) {
    wrong_type(key, *v, "float32");
  }
  return float_element(*v, 0);
}

std::optional<bool> GgufFile::find_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->type != GgufValueType::Bool) wrong_type(key, *v, "bool");
  return v->raw[0] != 0;
}

std::optional<std::string> GgufFile::find_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->type != GgufValueType::String) wrong_type(key, *v, "string");
  return v->strings[0];
}

const std::vector<std::string>* GgufFile::find_string_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return nullptr;
  if (!v->is_array() || v->elem_type != GgufValueType::String) {
    wrong_type(key, *v, "array of string");
  }
  return &v->strings;
}

std::optional<std::vector<float>> GgufFile::find_f32_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array() ||
      (v->elem_type != GgufValueType::Float32 && v->elem_type != GgufValueType::Float64)) {
    wrong_type(key, *v, "array of float32");
  }
  std::vector<float> out(v->count);
  for (uint64_t i = 0; i < v->count; ++i) out[i] = float_element(*v, i);
  return out;
}

std::optional<std::vector<int32_t>> GgufFile::find_i32_array(std::string_view key) const {
  return find_int_array<int32_t>(key, "int32");
}

uint32_t GgufFile::get_u32(std::string_view key) const {
  if (auto v = find_u32(key)) return *v;
  missing(key);
}
int32_t GgufFile::get_i32(std::string_view key) const {
  if (auto v = find_i32(key)) return *v;
  missing(key);
}
uint64_t GgufFile::get_u64(std::string_view key) const {
  if (auto v = find_u64(key)) return *v;
  missing(key);
}
float GgufFile::get_f32(std::string_view key) const {
  if (auto v = find_f32(key)) return *v;
  missing(key);
}
bool GgufFile::get_bool(std::string_view key) const {
  if (auto v = find_bool(key)) return *v;
  missing(key);
}
std::string GgufFile::get_string(std::string_view key) const {
  if (auto v = find_string(key)) return *v;
  missing(key);
}
const std::vector<std::string>& GgufFile::get_string_array(std::string_view key) const {
  if (auto* v = find_string_array(key)) return *v;
  missing(key);
}
std::vector<float> GgufFile::get_f32_array(std::string_view key) const {
  if (auto v = find_f32_array(key)) return *v;
  missing(key);
}
std::vector<int32_t> GgufFile::get_i32_array(std::string_view key) const {
  if (auto v = find_i32_array(key)) return *v;
  missing(key);
}

// --- Writer ------------------------------------------------------------------------

void GgufWriter::add(const std::string& key, GgufValue value) {
  for (const auto& kv : kvs_) {
    if (kv.first == key) throw std::invalid_argument("GGUF writer: duplicate key " + key);
  }
  const bool strings = value.elem_type == GgufValueType::String;
  const uint64_t expected = strings ? 0 : value.count * gguf_scalar_size(value.elem_type);
  if (value.elem_type == GgufValueType::Array ||
      (strings ? value.strings.size() != value.count : value.raw.size() != expected) ||
      (!value.is_array() && value.count != 1)) {
    throw std::invalid_argument("GGUF writer: malformed value for key " + key);
  }
  kvs_.emplace_back(key, std::move(value));
}

void GgufWriter::add_tensor(const std::string& name, std::vector<int64_t> dims, TensorType type,
                            std::vector<uint8_t> bytes) {
  auto shared = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  add_tensor(name, std::move(dims), type, TensorBytes([shared] { return *shared; }));
}

void GgufWriter::add_tensor(const std::string& name, std::vector<int64_t> dims, TensorType type,
                            TensorBytes produce) {
  for (const auto& t : tensors_) {
    if (t.name == name) throw std::invalid_argument("GGUF writer: duplicate tensor " + name);
  }
  if (dims.empty() || dims.size() > static_cast<size_t>(kMaxDims)) {
    throw std::invalid_argument("GGUF writer: tensor " + name + " needs 1..4 dimensions");
  }
  uint64_t n = 1;
  for (int64_t d : dims) {
    if (d <= 0) throw std::invalid_argument("GGUF writer: tensor " + name + " has dimension <= 0");
    n *= static_cast<uint64_t>(d);
  }
  const uint64_t size = row_bytes(type, dims[0]) * (n / static_cast<uint64_t>(dims[0]));
  tensors_.push_back(PendingTensor{name, std::move(dims), type, size, std::move(produce)});
}

uint32_t GgufWriter::alignment() const {
  for (const auto& [key, v] : kvs_) {
    if (key != "general.alignment") continue;
    uint32_t a = 0;
    if (v.type == GgufValueType::Uint32) std::memcpy(&a, v.raw.data(), 4);
    if (a == 0 || !std::has_single_bit(a)) {
      throw std::invalid_argument("GGUF writer: general.alignment must be a uint32 power of two");
    }
    return a;
  }
  return kDefaultAlignment;
}

void GgufWriter::serialize(const std::function<void(const void*, size_t)>& sink) const {
  const uint32_t align = alignment();
  uint64_t pos = 0;
  auto put = [&](const void* p, size_t n) {
    sink(p, n);
    pos += n;
  };
  auto put_u32 = [&](uint32_t v) { put(&v, 4); };
  auto put_u64 = [&](uint64_t v) { put(&v, 8); };
  auto put_str = [&](const std::string& s) {
    put_u64(s.size());
    put(s.data(), s.size());
  };
  const std::vector<uint8_t> zeros(align, 0);
  auto pad = [&] {
    const uint64_t rem = pos % align;
    if (rem != 0) put(zeros.data(), align - rem);
  };

  put_u32(kMagic);
  put_u32(3);
  put_u64(tensors_.size());
  put_u64(kvs_.size());
  for (const auto& [key, v] : kvs_) {
    put_str(key);
    put_u32(static_cast<uint32_t>(v.type));
    if (v.is_array()) {
      put_u32(static_cast<uint32_t>(v.elem_type));
      put_u64(v.count);
    }
    if (v.elem_type == GgufValueType::String) {
      for (const auto& s : v.strings) put_str(s);
    } else {
      put(v.raw.data(), v.raw.size());
    }
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    put_str(t.name);
    put_u32(static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) put_u64(static_cast<uint64_t>(d));
    put_u32(static_cast<uint32_t>(t.type));
    put_u64(offset);
    offset += (t.size_bytes + align - 1) / align * align;
  }
  pad();
  for (const auto& t : tensors_) {
    const std::vector<uint8_t> bytes = t.produce();
    if (bytes.size() != t.size_bytes) {
      throw std::invalid_argument("GGUF writer: tensor " + t.name + " has " +
                                  std::to_string(bytes.size()) + " bytes, expected " +
                                  std::to_string(t.size_bytes));
    }
    put(bytes.data(), bytes.size());
    pad();
  }
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
  std::vector<uint8_t> out;
  serialize([&](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  });
  return out;
}

void GgufWriter::write(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  std::FILE* fp = std::fopen(tmp.c_str(), "wb");
  if (fp == nullptr) {
    throw ModelError(tmp + ": cannot create: " + std::strerror(errno));
  }
  try {
    serialize([&](const void* p, size_t n) {
      if (n > 0 && std::fwrite(p, 1, n, fp) != n) {
        throw ModelError(tmp + ": write failed: " + std::strerror(errno));
      }
    });
    if (std::fclose(fp) != 0) {
      fp = nullptr;
      throw ModelError(tmp + ": write failed: " + std::strerror(errno));
    }
    fp = nullptr;
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      throw ModelError(path + ": cannot rename " + tmp + " into place: " + std::strerror(errno));
    }
  } catch (...) {
    if (fp != nullptr) std::fclose(fp);
    std::remove(tmp.c_str());
    throw;
  }
}

}  // namespace llmops::engine
