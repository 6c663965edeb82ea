// `convert` of GGUF files between types (and of llama2.c checkpoints into the K-quant
// mixes): the planned type per tensor, values within each type's resolution, metadata
// kept, lossless copies when a tensor's type does not change, clear errors. (The mixes'
// next-token agreement with F32 is kquant_agreement.cpp.)
#include "engine/gguf_convert.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "engine/errors.h"
#include "engine/gguf.h"
#include "engine/mapped_file.h"
#include "engine/model.h"
#include "engine/model_writer.h"
#include "engine/quant.h"
#include "test_files.h"

namespace llmops::engine {
namespace {

using test_files::TempDir;

const std::string kModels = std::string(LLMOPS_SHARED_DIR) + "/models";

// A random-weight Llama whose matrices are whole K-quant super-blocks (dim 256, hidden
// 512).
std::string make_f32_model(const TempDir& dir, int layers = 4) {
  MakeModelOptions o;
  o.dim = 256;
  o.hidden_dim = 512;
  o.n_layers = layers;
  o.n_heads = 4;
  o.n_kv_heads = 2;
  o.context_length = 160;
  o.out = dir.file("f32.gguf");
  o.seed = 5;
  make_model(o);
  return o.out;
}

struct Parsed {
  std::shared_ptr<const MappedFile> file;
  GgufFile gguf;
};

Parsed parse(const std::string& path) {
  auto file = MappedFile::open(path);
  GgufFile g = GgufFile::parse(file->data(), file->size(), path);
  return {file, std::move(g)};
}

std::vector<float> decode_tensor(const Parsed& p, const GgufTensorInfo& t) {
  std::vector<float> out(t.n_elements);
  const int64_t cols = t.dims[0], rows = static_cast<int64_t>(t.n_elements) / cols;
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(t.type, p.file->data() + t.file_offset + row_bytes(t.type, cols) * r,
                   out.data() + r * cols, cols);
  }
  return out;
}

TEST(ConvertGguf, EveryTypeFollowsThePlanAndKeepsValuesAndMetadata) {
  TempDir dir;
  const std::string f32 = make_f32_model(dir);
  const Parsed source = parse(f32);
  struct Case {
    const char* type;
    double max_rms;  // per tensor, relative to the tensor's RMS
  };
  for (const Case& c : {Case{"f16", 1e-3}, Case{"bf16", 5e-3}, Case{"q8_0", 0.01},
                        Case{"q4_0", 0.15}, Case{"q6_k", 0.04}, Case{"q5_k", 0.07},
                        Case{"q4_k", 0.13}, Case{"q5_k_m", 0.07}, Case{"q4_k_m", 0.13}}) {
    SCOPED_TRACE(c.type);
    const std::string out = dir.file(std::string(c.type) + ".gguf");
    const FileType type = parse_file_type(c.type);
    convert_gguf({f32, out, type});
    const Parsed got = parse(out);
    // Metadata: every key of the source in order, file type and quantization version set.
    EXPECT_EQ(got.gguf.get_u32("general.file_type"), llama_file_type(type));
    EXPECT_EQ(got.gguf.find_u32("general.quantization_version").has_value(),
              is_quantized(type.type));
    for (const std::string& key : source.gguf.keys()) {
      if (key == "general.file_type") continue;
      ASSERT_NE(got.gguf.find(key), nullptr) << key;
      EXPECT_EQ(got.gguf.find(key)->raw, source.gguf.find(key)->raw) << key;
      EXPECT_EQ(got.gguf.find(key)->strings, source.gguf.find(key)->strings) << key;
    }
    const TensorTypePlan plan(type, 4, true);
    ASSERT_EQ(got.gguf.tensors().size(), source.gguf.tensors().size());
    for (size_t i = 0; i < source.gguf.tensors().size(); ++i) {
      const GgufTensorInfo& s = source.gguf.tensors()[i];
      const GgufTensorInfo& t = got.gguf.tensors()[i];
      ASSERT_EQ(t.name, s.name);
      EXPECT_EQ(t.dims, s.dims);
      EXPECT_EQ(t.type, plan.type_for(s.name, s.dims, s.type)) << s.name;
      const auto a = decode_tensor(source, s), b = decode_tensor(got, t);
      double sq = 0, norm = 0;
      for (size_t j = 0; j < a.size(); ++j) {
        sq += (a[j] - b[j]) * (a[j] - b[j]);
        norm += a[j] * a[j];
      }
      EXPECT_LE(std::sqrt(sq / norm), c.max_rms) << s.name << " " << type_name(t.type);
    }
    EXPECT_NO_THROW(load_model(out));
  }
}

// The mixes give llama.cpp's types: for 4 layers use_more_bits holds for layers 2 and 3
// (4 / 8 = 0 layers at the start, 7 · 4 / 8 = 3 onwards, and (2 − 0) % 3 == 2).
TEST(ConvertGguf, Q4KMediumTypesPerTensor) {
  TempDir dir;
  const std::string f32 = make_f32_model(dir);
  convert_gguf({f32, dir.file("m.gguf"), parse_file_type("q4_k_m")});
  const Model m = load_model(dir.file("m.gguf"));
  EXPECT_EQ(m.weights.output.type, TensorType::Q6_K);
  EXPECT_EQ(m.weights.token_embd.type, TensorType::Q4_K);
  for (int l = 0; l < 4; ++l) {
    const LayerWeights& lw = m.weights.layers[static_cast<size_t>(l)];
    const TensorType more = l >= 2 ? TensorType::Q6_K : TensorType::Q4_K;
    EXPECT_EQ(lw.wv.type, more) << l;
    EXPECT_EQ(lw.w_down.type, more) << l;
    EXPECT_EQ(lw.wq.type, TensorType::Q4_K) << l;
    EXPECT_EQ(lw.w_gate.type, TensorType::Q4_K) << l;
  }
}

// Converting to the type a file already has copies every tensor's bytes; converting
// back to F32 gives exactly the decoded values.
TEST(ConvertGguf, SameTypeIsLosslessAndF32DecodesExactly) {
  TempDir dir;
  const std::string f32 = make_f32_model(dir);
  const FileType q4km = parse_file_type("q4_k_m");
  convert_gguf({f32, dir.file("a.gguf"), q4km});
  convert_gguf({dir.file("a.gguf"), dir.file("b.gguf"), q4km});
  EXPECT_EQ(test_files::read_bytes(dir.file("a.gguf")), test_files::read_bytes(dir.file("b.gguf")));
  convert_gguf({dir.file("a.gguf"), dir.file("c.gguf"), TensorType::F32});
  const Parsed a = parse(dir.file("a.gguf")), c = parse(dir.file("c.gguf"));
  for (size_t i = 0; i < a.gguf.tensors().size(); ++i) {
    EXPECT_EQ(c.gguf.tensors()[i].type, TensorType::F32);
    EXPECT_EQ(decode_tensor(a, a.gguf.tensors()[i]), decode_tensor(c, c.gguf.tensors()[i]))
        << a.gguf.tensors()[i].name;
  }
}

// llama2.c → GGUF with a mix: the trained test model's rows (64, 172) are not whole
// super-blocks, so everything falls back as llama.cpp would (to Q8_0, then F16).
TEST(ConvertGguf, Llama2cCheckpointIntoAMix) {
  TempDir dir;
  convert_llama2c_to_gguf({kModels + "/aidreams260K.bin", kModels + "/tok512.bin",
                           dir.file("m.gguf"), parse_file_type("q4_k_m")});
  const Model m = load_model(dir.file("m.gguf"));
  EXPECT_EQ(m.weights.token_embd.type, TensorType::Q8_0);  // the classifier: Q6_K → Q8_0
  EXPECT_EQ(m.weights.layers[0].wq.type, TensorType::Q8_0);
  EXPECT_EQ(m.weights.layers[0].w_down.type, TensorType::F16);
}

TEST(ConvertGguf, BadInputsAreClearErrors) {
  TempDir dir;
  test_files::write_bytes(dir.file("junk.bin"), std::vector<uint8_t>(64, 7));
  EXPECT_FALSE(is_gguf_file(dir.file("junk.bin")));
  EXPECT_FALSE(is_gguf_file(dir.file("missing.gguf")));
  EXPECT_THROW(convert_gguf({dir.file("junk.bin"), dir.file("o.gguf"), TensorType::F16}),
               ModelError);
  EXPECT_THROW(convert_gguf({dir.file("missing.gguf"), dir.file("o.gguf"), TensorType::F16}),
               ModelError);
  // A GGUF without an architecture: uniform types are fine, a mix needs the layer count.
  GgufWriter w;
  std::vector<float> values(256 * 2, 0.5f);
  std::vector<uint8_t> bytes(values.size() * 4);
  std::memcpy(bytes.data(), values.data(), bytes.size());
  w.add_tensor("blk.0.attn_q.weight", {256, 2}, TensorType::F32, bytes);
  w.write(dir.file("bare.gguf"));
  EXPECT_TRUE(is_gguf_file(dir.file("bare.gguf")));
  convert_gguf({dir.file("bare.gguf"), dir.file("q6.gguf"), TensorType::Q6_K});
  try {
    convert_gguf({dir.file("bare.gguf"), dir.file("m.gguf"), parse_file_type("q4_k_m")});
    FAIL() << "converted a file without block_count to a mix";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("block_count"), std::string::npos) << e.what();
  }
  EXPECT_THROW(convert_gguf({dir.file("bare.gguf"), "", TensorType::F16}), std::invalid_argument);
}

}  // namespace
}  // namespace llmops::engine
