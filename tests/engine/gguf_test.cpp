#include "engine/gguf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/errors.h"
#include "engine/mapped_file.h"
#include "engine/test_files.h"

namespace llmops::engine {
namespace {

using test_files::ByteBuilder;
using test_files::TempDir;

// Parses `bytes` and returns the ModelError message ("" when it parsed).
std::string parse_error(const std::vector<uint8_t>& bytes, const std::string& name = "x.gguf") {
  try {
    GgufFile::parse(bytes.data(), bytes.size(), name);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_PARSE_ERROR(bytes, substring)                    \
  do {                                                          \
    const std::string msg_ = parse_error(bytes);                \
    EXPECT_NE(msg_.find(substring), std::string::npos) << msg_; \
    EXPECT_EQ(msg_.rfind("GGUF x.gguf: ", 0), 0u) << msg_;      \
  } while (0)

// Header of a file with the given counts.
ByteBuilder header(uint64_t tensors, uint64_t kvs, uint32_t version = 3) {
  ByteBuilder b;
  b.raw("GGUF").u32(version).u64(tensors).u64(kvs);
  return b;
}

// A file with one tensor "t" (dims, type id, offset) and `data_bytes` of data.
std::vector<uint8_t> one_tensor(const std::vector<uint64_t>& dims, uint32_t type, uint64_t offset,
                                size_t data_bytes) {
  ByteBuilder b = header(1, 0);
  b.str("t").u32(static_cast<uint32_t>(dims.size()));
  for (uint64_t d : dims) b.u64(d);
  b.u32(type).u64(offset);
  b.pad_to(32);
  b.bytes.resize(b.bytes.size() + data_bytes, 0);
  return b.bytes;
}

TEST(GgufRoundTrip, EveryValueTypeAndTensorType) {
  GgufWriter w;
  w.add("u8", GgufValue::scalar(uint8_t{200}));
  w.add("i8", GgufValue::scalar(int8_t{-100}));
  w.add("u16", GgufValue::scalar(uint16_t{60000}));
  w.add("i16", GgufValue::scalar(int16_t{-30000}));
  w.add_u32("u32", 4000000000u);
  w.add_i32("i32", -2000000000);
  w.add("u64", GgufValue::scalar(uint64_t{1} << 60));
  w.add("i64", GgufValue::scalar(-(int64_t{1} << 60)));
  w.add_f32("f32", 1.5f);
  w.add("f64", GgufValue::scalar(2.25));
  w.add_bool("bool_t", true);
  w.add_bool("bool_f", false);
  w.add_string("str", "h\xC3\xA9llo \xE2\x96\x81 world");
  w.add_string("empty_str", "");
  w.add_string_array("strs", {"a", "",
                              "\xE2\x96\x81"
                              "b"});
  w.add_f32_array("f32s", {0.5f, -1.0f, 3.0f});
  w.add_i32_array("i32s", {1, -2, 3});
  w.add("u8s", GgufValue::array(std::vector<uint8_t>{1, 2, 255}));
  w.add("i16s", GgufValue::array(std::vector<int16_t>{-1, 2}));
  w.add("u64s", GgufValue::array(std::vector<uint64_t>{5, 6}));
  w.add("f64s", GgufValue::array(std::vector<double>{0.25}));
  w.add("bools", GgufValue::array(std::vector<bool>{true, false, true}));
  w.add_i32_array("empty_arr", {});

  std::vector<float> f32s = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
  std::vector<uint8_t> f32_bytes(f32s.size() * 4);
  std::memcpy(f32_bytes.data(), f32s.data(), f32_bytes.size());
  w.add_tensor("a.f32", {3, 2}, TensorType::F32, f32_bytes);
  w.add_tensor("b.f16", {5}, TensorType::F16, std::vector<uint8_t>(10, 0x3c));
  w.add_tensor("c.q8", {64, 1, 1, 2}, TensorType::Q8_0, std::vector<uint8_t>(2 * 2 * 34, 7));
  w.add_tensor("d.q4", {32, 3}, TensorType::Q4_0, std::vector<uint8_t>(3 * 18, 9));
  const std::vector<uint8_t> bytes = w.to_bytes();

  const GgufFile g = GgufFile::parse(bytes.data(), bytes.size(), "rt.gguf");
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.alignment(), 32u);
  EXPECT_EQ(g.keys().size(), 23u);
  EXPECT_EQ(g.keys().front(), "u8");
  EXPECT_EQ(g.find("u8")->type, GgufValueType::Uint8);
  EXPECT_EQ(g.get_u32("u8"), 200u);
  EXPECT_EQ(g.get_i32("i8"), -100);
  EXPECT_EQ(g.find("u16")->type, GgufValueType::Uint16);
  EXPECT_EQ(g.get_u32("u16"), 60000u);
  EXPECT_EQ(g.get_i32("i16"), -30000);
  EXPECT_EQ(g.get_u32("u32"), 4000000000u);
  EXPECT_EQ(g.get_u64("u32"), 4000000000u);
  EXPECT_EQ(g.get_i32("i32"), -2000000000);
  EXPECT_EQ(g.get_u64("u64"), uint64_t{1} << 60);
  EXPECT_EQ(g.find("i64")->type, GgufValueType::Int64);
  int64_t i64 = 0;
  std::memcpy(&i64, g.find("i64")->raw.data(), 8);
  EXPECT_EQ(i64, -(int64_t{1} << 60));
  EXPECT_FLOAT_EQ(g.get_f32("f32"), 1.5f);
  EXPECT_EQ(g.find("f64")->type, GgufValueType::Float64);
  EXPECT_FLOAT_EQ(g.get_f32("f64"), 2.25f);
  EXPECT_TRUE(g.get_bool("bool_t"));
  EXPECT_FALSE(g.get_bool("bool_f"));
  EXPECT_EQ(g.get_string("str"), "h\xC3\xA9llo \xE2\x96\x81 world");
  EXPECT_EQ(g.get_string("empty_str"), "");
  EXPECT_EQ(g.get_string_array("strs"), (std::vector<std::string>{"a", "",
                                                                  "\xE2\x96\x81"
                                                                  "b"}));
  EXPECT_EQ(g.get_f32_array("f32s"), (std::vector<float>{0.5f, -1.0f, 3.0f}));
  EXPECT_EQ(g.get_i32_array("i32s"), (std::vector<int32_t>{1, -2, 3}));
  EXPECT_EQ(g.get_i32_array("u8s"), (std::vector<int32_t>{1, 2, 255}));
  EXPECT_EQ(g.get_i32_array("i16s"), (std::vector<int32_t>{-1, 2}));
  EXPECT_EQ(g.get_i32_array("u64s"), (std::vector<int32_t>{5, 6}));
  EXPECT_EQ(g.get_f32_array("f64s"), (std::vector<float>{0.25f}));
  const GgufValue* bools = g.find("bools");
  ASSERT_NE(bools, nullptr);
  EXPECT_EQ(bools->elem_type, GgufValueType::Bool);
  EXPECT_EQ(bools->raw, (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_TRUE(g.get_i32_array("empty_arr").empty());
  EXPECT_EQ(g.find("nope"), nullptr);
  EXPECT_FALSE(g.find_u32("nope").has_value());

  ASSERT_EQ(g.tensors().size(), 4u);
  EXPECT_EQ(g.data_offset() % 32, 0u);
  const GgufTensorInfo* a = g.find_tensor("a.f32");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dims, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(a->type, TensorType::F32);
  EXPECT_EQ(a->n_elements, 6u);
  EXPECT_EQ(a->size_bytes, 24u);
  EXPECT_EQ(std::memcmp(bytes.data() + a->file_offset, f32s.data(), 24), 0);
  const GgufTensorInfo* c = g.find_tensor("c.q8");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->dims, (std::vector<int64_t>{64, 1, 1, 2}));
  EXPECT_EQ(c->size_bytes, 4u * 34);
  EXPECT_EQ(bytes[c->file_offset], 7);
  const GgufTensorInfo* d = g.find_tensor("d.q4");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->type, TensorType::Q4_0);
  EXPECT_EQ(d->size_bytes, 3u * 18);
  for (const auto& t : g.tensors()) EXPECT_EQ(t.offset % 32, 0u) << t.name;
  EXPECT_EQ(bytes.size() % 32, 0u);  // the last tensor is padded too
}

TEST(GgufRoundTrip, WriteToFileAndMap) {
  TempDir dir;
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_u32("general.alignment", 64);
  w.add_tensor("x", {4}, TensorType::F32, std::vector<uint8_t>(16, 1));
  w.add_tensor("y", {4}, TensorType::F32, std::vector<uint8_t>(16, 2));
  w.write(dir.file("m.gguf"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("m.gguf.tmp")));
  auto file = MappedFile::open(dir.file("m.gguf"));
  const GgufFile g = GgufFile::parse(file->data(), file->size(), file->path());
  EXPECT_EQ(g.alignment(), 64u);
  EXPECT_EQ(g.data_offset() % 64, 0u);
  EXPECT_EQ(g.find_tensor("y")->offset, 64u);
  EXPECT_EQ(file->data()[g.find_tensor("y")->file_offset], 2);
  EXPECT_EQ(file->data()[g.find_tensor("x")->file_offset + 15], 1);
}

TEST(MappedFile, EmptyMissingAndDirectory) {
  TempDir dir;
  test_files::write_bytes(dir.file("empty"), {});
  auto empty = MappedFile::open(dir.file("empty"));
  EXPECT_EQ(empty->size(), 0u);
  EXPECT_EQ(empty->data(), nullptr);
  try {
    MappedFile::open(dir.file("missing"));
    ADD_FAILURE() << "no error";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("missing: cannot open: No such file"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(MappedFile::open(dir.path()), ModelError);
}

TEST(GgufWriter, RejectsMisuse) {
  GgufWriter w;
  w.add_u32("k", 1);
  EXPECT_THROW(w.add_u32("k", 2), std::invalid_argument);
  w.add_tensor("t", {4}, TensorType::F32, std::vector<uint8_t>(16));
  EXPECT_THROW(w.add_tensor("t", {4}, TensorType::F32, std::vector<uint8_t>(16)),
               std::invalid_argument);
  EXPECT_THROW(w.add_tensor("z", {0}, TensorType::F32, std::vector<uint8_t>()),
               std::invalid_argument);
  EXPECT_THROW(w.add_tensor("q", {31}, TensorType::Q8_0, std::vector<uint8_t>()),
               std::invalid_argument);
  w.add_tensor("short", {4}, TensorType::F32, std::vector<uint8_t>(15));
  EXPECT_THROW(w.to_bytes(), std::invalid_argument);
  TempDir dir;
  EXPECT_THROW(GgufWriter().write(dir.file("no/such/dir/x.gguf")), ModelError);
}

TEST(GgufMetadata, TypedGettersCheckTypesAndRanges) {
  GgufWriter w;
  w.add_string("llama.block_count", "four");
  w.add_i32("negative", -1);
  w.add("big", GgufValue::scalar(uint64_t{1} << 40));
  w.add("small", GgufValue::scalar(uint8_t{7}));
  w.add_f32("f", 1.0f);
  w.add_i32_array("ints", {1, 2});
  w.add("big_ints", GgufValue::array(std::vector<int64_t>{1, int64_t{1} << 40}));
  const auto bytes = w.to_bytes();
  const GgufFile g = GgufFile::parse(bytes.data(), bytes.size(), "x.gguf");
  auto message = [](auto&& fn) -> std::string {
    try {
      fn();
    } catch (const ModelError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(message([&] { g.get_u32("llama.block_count"); }),
            "GGUF x.gguf: key llama.block_count has type string, expected uint32");
  EXPECT_EQ(message([&] { g.get_u32("negative"); }),
            "GGUF x.gguf: key negative value -1 does not fit in uint32");
  EXPECT_EQ(g.get_i32("negative"), -1);
  EXPECT_NE(message([&] { g.get_i32("big"); }).find("does not fit in int32"), std::string::npos);
  EXPECT_EQ(g.get_u32("small"), 7u);
  EXPECT_EQ(g.get_i32("small"), 7);
  EXPECT_EQ(message([&] { g.get_u32("f"); }),
            "GGUF x.gguf: key f has type float32, expected uint32");
  EXPECT_EQ(message([&] { g.get_f32("small"); }),
            "GGUF x.gguf: key small has type uint8, expected float32");
  EXPECT_EQ(message([&] { g.get_string("ints"); }),
            "GGUF x.gguf: key ints has type array of int32, expected string");
  EXPECT_EQ(message([&] { g.get_string_array("ints"); }),
            "GGUF x.gguf: key ints has type array of int32, expected array of string");
  EXPECT_EQ(message([&] { g.get_f32_array("ints"); }),
            "GGUF x.gguf: key ints has type array of int32, expected array of float32");
  EXPECT_EQ(message([&] { g.get_i32_array("small"); }),
            "GGUF x.gguf: key small has type uint8, expected array of int32");
  EXPECT_NE(message([&] { g.get_i32_array("big_ints"); }).find("big_ints[1]"), std::string::npos);
  EXPECT_EQ(message([&] { g.get_bool("f"); }),
            "GGUF x.gguf: key f has type float32, expected bool");
  EXPECT_EQ(message([&] { g.get_u32("absent"); }), "GGUF x.gguf: missing key absent");
}

TEST(GgufBadFiles, TruncatedAtEveryCutPoint) {
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_string_array("tokens", {"a", "bb"});
  w.add_f32_array("scores", {1.0f, 2.0f});
  w.add_tensor("t", {8}, TensorType::F32, std::vector<uint8_t>(32, 1));
  const auto good = w.to_bytes();
  ASSERT_EQ(parse_error(good), "");
  const GgufFile g = GgufFile::parse(good.data(), good.size(), "x.gguf");
  const uint64_t data_start = g.find_tensor("t")->file_offset;
  for (size_t cut = 0; cut < good.size(); ++cut) {
    const std::vector<uint8_t> bad(good.begin(), good.begin() + static_cast<ptrdiff_t>(cut));
    const std::string msg = parse_error(bad);
    ASSERT_FALSE(msg.empty()) << "cut at " << cut;
    EXPECT_EQ(msg.rfind("GGUF x.gguf: ", 0), 0u) << msg;
    if (cut >= data_start) EXPECT_NE(msg.find("extends past the end"), std::string::npos) << msg;
  }
  auto prefix = [&](size_t n) {
    return std::vector<uint8_t>(good.begin(), good.begin() + static_cast<ptrdiff_t>(n));
  };
  EXPECT_PARSE_ERROR(prefix(2), "file of 2 bytes is too short for a header");
  EXPECT_PARSE_ERROR(prefix(6), "truncated at offset 4 reading version (need 4 bytes, 2 left)");
  EXPECT_PARSE_ERROR(prefix(30), "kv_count 3 is more than the remaining 6 bytes can hold");
  EXPECT_PARSE_ERROR(prefix(100), "key tokens: array of 2 strings exceeds the 1 bytes left");
  EXPECT_PARSE_ERROR(prefix(120),
                     "truncated at offset 118 reading key #2 length (need 8 bytes, 2 left)");
  EXPECT_PARSE_ERROR(prefix(good.size() - 1),
                     "tensor t data (offset 0, 32 bytes) extends past the end of the file (31 "
                     "bytes of data");
}

TEST(GgufBadFiles, WrongMagic) {
  ByteBuilder b;
  b.raw("GGML").u32(3).u64(0).u64(0);
  EXPECT_PARSE_ERROR(b.bytes, "bad magic 0x4c4d4747 (expected \"GGUF\")");
}

TEST(GgufBadFiles, UnsupportedVersion) {
  EXPECT_PARSE_ERROR(header(0, 0, 1).bytes, "unsupported version 1 (supported: 2 and 3)");
  EXPECT_PARSE_ERROR(header(0, 0, 4).bytes, "unsupported version 4");
  EXPECT_PARSE_ERROR(header(0, 0, 0x03000000).bytes, "(a big-endian file?)");
  EXPECT_EQ(parse_error(header(0, 0, 2).bytes), "");
  EXPECT_EQ(parse_error(header(0, 0, 3).bytes), "");
}

TEST(GgufBadFiles, AbsurdCounts) {
  EXPECT_PARSE_ERROR(header(0, uint64_t{1} << 62).bytes,
                     "kv_count 4611686018427387904 is more than the remaining 0 bytes can hold");
  EXPECT_PARSE_ERROR(header(~uint64_t{0}, 0).bytes,
                     "tensor_count 18446744073709551615 is more than the remaining 0 bytes");
  ByteBuilder arr = header(0, 1);
  arr.str("k").u32(9).u32(4).u64(uint64_t{1} << 61);
  EXPECT_PARSE_ERROR(arr.bytes, "key k: array of 2305843009213693952 uint32 exceeds the 0 bytes");
  ByteBuilder strs = header(0, 1);
  strs.str("k").u32(9).u32(8).u64(1000);
  EXPECT_PARSE_ERROR(strs.bytes, "key k: array of 1000 strings exceeds the 0 bytes left");
  ByteBuilder longstr = header(0, 1);
  longstr.str("k").u32(8).u64(~uint64_t{0});
  EXPECT_PARSE_ERROR(longstr.bytes, "key k length 18446744073709551615 exceeds the 0 bytes left");
  ByteBuilder longkey = header(0, 1);
  longkey.u64(1000).raw("abc").u32(0).u32(0).u32(0).u32(0);
  EXPECT_PARSE_ERROR(longkey.bytes, "key #0 length 1000 exceeds the 19 bytes left");
}

TEST(GgufBadFiles, BadValueTypes) {
  ByteBuilder unknown = header(0, 1);
  unknown.str("k").u32(13).u32(0);
  EXPECT_PARSE_ERROR(unknown.bytes, "key k has unknown value type id 13");
  ByteBuilder nested = header(0, 1);
  nested.str("k").u32(9).u32(9).u64(1).u32(4).u64(1).u32(5);
  EXPECT_PARSE_ERROR(nested.bytes, "key k is an array of arrays (nested arrays are not supported)");
  ByteBuilder dup = header(0, 2);
  dup.str("k").u32(0).put(uint8_t{1}).str("k").u32(0).put(uint8_t{2});
  EXPECT_PARSE_ERROR(dup.bytes, "duplicate key k");
  ByteBuilder align = header(0, 1);
  align.str("general.alignment").u32(4).u32(48);
  EXPECT_PARSE_ERROR(align.bytes, "general.alignment 48 is not a power of two");
  ByteBuilder align0 = header(0, 1);
  align0.str("general.alignment").u32(4).u32(0);
  EXPECT_PARSE_ERROR(align0.bytes, "general.alignment 0 is not a power of two");
  ByteBuilder align_str = header(0, 1);
  align_str.str("general.alignment").u32(8).str("32");
  EXPECT_PARSE_ERROR(align_str.bytes, "key general.alignment has type string, expected uint32");
}

TEST(GgufBadFiles, AbsurdOrZeroDimensions) {
  EXPECT_EQ(parse_error(one_tensor({4, 2}, 0, 0, 32)), "");
  EXPECT_PARSE_ERROR(one_tensor({4, 0}, 0, 0, 32),
                     "tensor t has dimension 1 = 0 (must be positive)");
  EXPECT_PARSE_ERROR(one_tensor({~uint64_t{0}}, 0, 0, 32),
                     "tensor t has dimension 0 = 18446744073709551615 (too large)");
  EXPECT_PARSE_ERROR(one_tensor({uint64_t{1} << 40, uint64_t{1} << 40}, 0, 0, 32),
                     "tensor t: element count overflows");
  EXPECT_PARSE_ERROR(one_tensor({uint64_t{1} << 62}, 0, 0, 32), "tensor t has too many elements");
  EXPECT_PARSE_ERROR(one_tensor({1, 1, 1, 1, 1}, 0, 0, 32),
                     "tensor t has 5 dimensions (expected 1..4)");
  EXPECT_PARSE_ERROR(one_tensor({}, 0, 0, 32), "tensor t has 0 dimensions");
  EXPECT_PARSE_ERROR(one_tensor({uint64_t{1} << 30, uint64_t{1} << 30}, 0, 0, 32),
                     "extends past the end of the file");
  EXPECT_PARSE_ERROR(one_tensor({48}, 8, 0, 64),
                     "tensor t of type q8_0 has rows of 48 elements, not a multiple of 32");
}

TEST(GgufBadFiles, TensorOffsetPastTheEnd) {
  EXPECT_PARSE_ERROR(one_tensor({4}, 0, 64, 32),
                     "tensor t data (offset 64, 16 bytes) extends past the end of the file (32 "
                     "bytes of data from offset 64)");
  EXPECT_PARSE_ERROR(one_tensor({4}, 0, uint64_t{1} << 63, 32), "extends past the end");
  EXPECT_PARSE_ERROR(one_tensor({4}, 0, 0, 8), "extends past the end");
}

TEST(GgufBadFiles, MisalignedOffset) {
  EXPECT_PARSE_ERROR(one_tensor({4}, 0, 4, 64),
                     "tensor t offset 4 is not a multiple of the alignment 32");
}

TEST(GgufBadFiles, UnsupportedTensorType) {
  EXPECT_PARSE_ERROR(
      one_tensor({256}, 11, 0, 1024),
      "tensor t has unsupported type id 11 (q3_K) (supported: f32, f16, bf16, q4_0, q8_0, "
      "q4_K, q5_K, q6_K)");
  EXPECT_PARSE_ERROR(one_tensor({4}, 1000, 0, 64), "tensor t has unsupported type id 1000");
}

TEST(GgufBadFiles, DuplicateTensorNames) {
  ByteBuilder b = header(2, 0);
  for (int i = 0; i < 2; ++i) b.str("t").u32(1).u64(4).u32(0).u64(0);
  b.pad_to(32);
  b.bytes.resize(b.bytes.size() + 32);
  EXPECT_PARSE_ERROR(b.bytes, "duplicate tensor t");
}

}  // namespace
}  // namespace llmops::engine
