#include "engine/model_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "engine/errors.h"
#include "engine/gguf.h"
#include "engine/mapped_file.h"
#include "engine/model.h"
#include "engine/model_loader.h"
#include "engine/quant.h"
#include "engine/test_files.h"
#include "engine/tokenizer.h"

namespace llmops::engine {
namespace {

using test_files::TempDir;

const std::string kAidreams = LLMOPS_SHARED_DIR "/models/aidreams260K.bin";
const std::string kTok512 = LLMOPS_SHARED_DIR "/models/tok512.bin";

template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// Every weight of a model with the name a GGUF gives it, in one list.
std::vector<std::pair<std::string, const TensorView*>> all_weights(const Model& m) {
  std::vector<std::pair<std::string, const TensorView*>> out;
  const ModelWeights& w = m.weights;
  out.push_back({"token_embd.weight", &w.token_embd});
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const LayerWeights& lw = w.layers[l];
    const std::string p = "blk." + std::to_string(l) + ".";
    out.push_back({p + "attn_norm.weight", &lw.attn_norm});
    out.push_back({p + "attn_q.weight", &lw.wq});
    out.push_back({p + "attn_k.weight", &lw.wk});
    out.push_back({p + "attn_v.weight", &lw.wv});
    out.push_back({p + "attn_output.weight", &lw.wo});
    out.push_back({p + "ffn_norm.weight", &lw.ffn_norm});
    out.push_back({p + "ffn_gate.weight", &lw.w_gate});
    out.push_back({p + "ffn_up.weight", &lw.w_up});
    out.push_back({p + "ffn_down.weight", &lw.w_down});
  }
  out.push_back({"output_norm.weight", &w.output_norm});
  out.push_back({"output.weight", &w.output});
  return out;
}

bool is_norm(const std::string& name) {
  return name.find("norm") != std::string::npos;
}

TEST(ConvertLlama2c, F32IsByteIdenticalAndCarriesTheVocabulary) {
  TempDir dir;
  const std::string out = dir.file("aidreams.gguf");
  convert_llama2c_to_gguf({kAidreams, kTok512, out, TensorType::F32});
  const Model src = load_model(kAidreams);
  const Model m = load_model(out);
  EXPECT_EQ(m.format, ModelFormat::Gguf);
  EXPECT_EQ(m.config.dim, 64);
  EXPECT_EQ(m.config.hidden_dim, 172);
  EXPECT_EQ(m.config.n_layers, 4);
  EXPECT_EQ(m.config.n_heads, 4);
  EXPECT_EQ(m.config.n_kv_heads, 4);
  EXPECT_EQ(m.config.vocab_size, 512);
  EXPECT_EQ(m.config.context_length, 128);
  EXPECT_EQ(m.config.rope_dim, 16);
  EXPECT_EQ(m.config.rms_eps, src.config.rms_eps);
  EXPECT_EQ(m.config.rope_theta, src.config.rope_theta);
  EXPECT_TRUE(m.weights.shared_classifier);
  EXPECT_EQ(m.weights.output.data, m.weights.token_embd.data);

  const auto a = all_weights(src), b = all_weights(m);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const TensorView& x = *a[i].second;
    const TensorView& y = *b[i].second;
    EXPECT_EQ(y.type, TensorType::F32) << b[i].first;
    ASSERT_EQ(x.rows, y.rows) << b[i].first;
    ASSERT_EQ(x.cols, y.cols) << b[i].first;
    EXPECT_EQ(std::memcmp(x.data, y.data, x.size_bytes()), 0) << b[i].first;
  }

  const Vocab tok = load_tokenizer_bin(kTok512);
  ASSERT_TRUE(m.vocab.has_value());
  EXPECT_EQ(m.vocab->pieces, tok.pieces);
  EXPECT_EQ(m.vocab->scores, tok.scores);
  EXPECT_EQ(m.vocab->types, tok.types);
  EXPECT_EQ(m.vocab->bos_id, 1);
  EXPECT_EQ(m.vocab->eos_id, 2);
  EXPECT_EQ(m.vocab->unk_id, 0);

  // The metadata llama.cpp reads.
  auto file = MappedFile::open(out);
  const GgufFile g = GgufFile::parse(file->data(), file->size(), out);
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.get_string("general.architecture"), "llama");
  EXPECT_EQ(g.get_string("general.name"), "aidreams260K");
  EXPECT_EQ(g.find("general.alignment")->type, GgufValueType::Uint32);
  EXPECT_EQ(g.get_u32("general.alignment"), 32u);
  EXPECT_EQ(g.get_u32("general.file_type"), 0u);
  EXPECT_EQ(g.get_u32("llama.context_length"), 128u);
  EXPECT_EQ(g.get_u32("llama.embedding_length"), 64u);
  EXPECT_EQ(g.get_u32("llama.block_count"), 4u);
  EXPECT_EQ(g.get_u32("llama.feed_forward_length"), 172u);
  EXPECT_EQ(g.get_u32("llama.rope.dimension_count"), 16u);
  EXPECT_EQ(g.get_u32("llama.attention.head_count"), 4u);
  EXPECT_EQ(g.get_u32("llama.attention.head_count_kv"), 4u);
  EXPECT_FLOAT_EQ(g.get_f32("llama.attention.layer_norm_rms_epsilon"), 1e-5f);
  EXPECT_FLOAT_EQ(g.get_f32("llama.rope.freq_base"), 10000.0f);
  EXPECT_EQ(g.get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(g.find("tokenizer.ggml.token_type")->elem_type, GgufValueType::Int32);
  EXPECT_EQ(g.find("tokenizer.ggml.scores")->elem_type, GgufValueType::Float32);
  EXPECT_EQ(g.get_u32("tokenizer.ggml.bos_token_id"), 1u);
  EXPECT_EQ(g.get_u32("tokenizer.ggml.eos_token_id"), 2u);
  EXPECT_EQ(g.get_u32("tokenizer.ggml.unknown_token_id"), 0u);
  EXPECT_TRUE(g.get_bool("tokenizer.ggml.add_bos_token"));
  EXPECT_FALSE(g.get_bool("tokenizer.ggml.add_eos_token"));
  const auto& tokens = g.get_string_array("tokenizer.ggml.tokens");
  size_t with_space = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    EXPECT_EQ(tokens[i].find(' '), std::string::npos) << tokens[i];
    if (tok.pieces[i].find("\xE2\x96\x81") != std::string::npos) {  // a space in tokenizer.bin
      ++with_space;
      EXPECT_EQ(tokens[i], tok.pieces[i]);
    }
  }
  EXPECT_GT(with_space, 50u);
  EXPECT_EQ(g.find_tensor("output.weight"), nullptr);
  EXPECT_EQ(g.tensors().size(), 1u + 4 * 9 + 1);
  EXPECT_EQ(g.find_tensor("blk.0.ffn_down.weight")->dims, (std::vector<int64_t>{172, 64}));
  EXPECT_EQ(g.find_tensor("blk.0.attn_norm.weight")->dims, (std::vector<int64_t>{64}));
}

struct ConvertCase {
  TensorType type;
  uint32_t file_type;
  float tolerance;  // relative to the row's largest magnitude
};

class ConvertQuantized : public ::testing::TestWithParam<ConvertCase> {};

TEST_P(ConvertQuantized, TypesFallbackAndValues) {
  const ConvertCase c = GetParam();
  TempDir dir;
  const std::string out = dir.file("m.gguf");
  convert_llama2c_to_gguf({kAidreams, kTok512, out, c.type});
  const Model src = load_model(kAidreams);
  const Model m = load_model(out);
  const auto a = all_weights(src), b = all_weights(m);
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string& name = b[i].first;
    const TensorView& x = *a[i].second;
    const TensorView& y = *b[i].second;
    ASSERT_EQ(x.rows, y.rows) << name;
    ASSERT_EQ(x.cols, y.cols) << name;
    if (is_norm(name)) {
      EXPECT_EQ(y.type, TensorType::F32) << name;
      EXPECT_EQ(std::memcmp(x.data, y.data, x.size_bytes()), 0) << name;
      continue;
    }
    // Rows of 172 (ffn_down) cannot be quantized: F16 instead.
    const bool fallback = name.find("ffn_down") != std::string::npos;
    EXPECT_EQ(y.type, fallback ? TensorType::F16 : c.type) << name;
    std::vector<float> row(static_cast<size_t>(y.cols));
    for (int64_t r = 0; r < y.rows; r += 7) {
      dequantize_row(y.type, y.row(r), row.data(), y.cols);
      float amax = 0;
      for (int64_t j = 0; j < x.cols; ++j)
        amax = std::max(amax, std::fabs(x.f32()[r * x.cols + j]));
      const float tol = (fallback ? 1e-3f : c.tolerance) * amax + 1e-6f;
      for (int64_t j = 0; j < y.cols; ++j) {
        ASSERT_NEAR(row[static_cast<size_t>(j)], x.f32()[r * x.cols + j], tol)
            << name << " row " << r << " col " << j;
      }
    }
  }
  auto file = MappedFile::open(out);
  const GgufFile g = GgufFile::parse(file->data(), file->size(), out);
  EXPECT_EQ(g.get_u32("general.file_type"), c.file_type);
  ASSERT_TRUE(m.vocab.has_value());
  EXPECT_EQ(m.vocab->pieces, load_tokenizer_bin(kTok512).pieces);
}

INSTANTIATE_TEST_SUITE_P(Types, ConvertQuantized,
                         ::testing::Values(ConvertCase{TensorType::F16, 1, 1e-3f},
                                           ConvertCase{TensorType::Q8_0, 7, 0.6f / 127},
                                           ConvertCase{TensorType::Q4_0, 2, 1.1f / 8}),
                         [](const auto& info) { return std::string(type_name(info.param.type)); });

TEST(ConvertLlama2c, SeparateClassifierAndGqa) {
  TempDir dir;
  test_files::Llama2cSpec spec;
  spec.shared = false;
  spec.n_heads = 4;
  spec.n_kv_heads = 2;
  test_files::write_bytes(dir.file("m.bin"), spec.bytes());
  test_files::write_bytes(dir.file("tok.bin"),
                          test_files::tokenizer_bin(test_files::tiny_pieces(8)));
  convert_llama2c_to_gguf(
      {dir.file("m.bin"), dir.file("tok.bin"), dir.file("m.gguf"), TensorType::F32});
  const Model src = load_model(dir.file("m.bin"));
  const Model m = load_model(dir.file("m.gguf"));
  EXPECT_FALSE(m.weights.shared_classifier);
  EXPECT_EQ(m.config.n_kv_heads, 2);
  EXPECT_EQ(m.weights.layers[0].wk.rows, 4);
  EXPECT_EQ(
      std::memcmp(m.weights.output.data, src.weights.output.data, src.weights.output.size_bytes()),
      0);
  EXPECT_EQ(m.vocab->pieces[3], "\xE2\x96\x81t3");  // a space in tokenizer.bin
}

TEST(ConvertLlama2c, TokenizerSizeDisagreesWithModel) {
  TempDir dir;
  const std::string tok = dir.file("tok300.bin");
  std::vector<std::string> pieces = load_tokenizer_bin(kTok512).pieces;
  pieces.resize(300);
  test_files::write_bytes(tok, test_files::tokenizer_bin(pieces));
  const std::string msg = error_of([&] {
    convert_llama2c_to_gguf({kAidreams, tok, dir.file("x.gguf"), TensorType::F32});
  });
  EXPECT_EQ(msg, "tokenizer " + tok + " has 300 tokens but checkpoint " + kAidreams +
                     " has vocab_size 512");
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.gguf")));
}

TEST(ConvertLlama2c, BadInputs) {
  TempDir dir;
  EXPECT_NE(error_of([&] {
              convert_llama2c_to_gguf({kAidreams, "", dir.file("x.gguf"), TensorType::F32});
            }).find("a tokenizer.bin is required"),
            std::string::npos);
  test_files::Llama2cSpec spec;
  auto bytes = spec.bytes();
  bytes.pop_back();
  test_files::write_bytes(dir.file("short.bin"), bytes);
  EXPECT_NE(error_of([&] {
              convert_llama2c_to_gguf(
                  {dir.file("short.bin"), kTok512, dir.file("x.gguf"), TensorType::F32});
            }).find("llama2.c checkpoint " + dir.file("short.bin") + ": file is 2747 bytes"),
            std::string::npos);
  EXPECT_THROW(
      convert_llama2c_to_gguf({kAidreams, kTok512, dir.file("no/dir/x.gguf"), TensorType::F32}),
      ModelError);
}

TEST(MakeModel, SameSeedSameBytesAndGqaShapes) {
  TempDir dir;
  MakeModelOptions o;
  o.dim = 64;
  o.hidden_dim = 80;  // not a multiple of 32: ffn_down falls back to F16
  o.n_layers = 2;
  o.n_heads = 4;
  o.n_kv_heads = 2;
  o.context_length = 32;
  o.type = TensorType::Q8_0;
  o.seed = 7;
  // The same file name (general.name is its stem) in three directories.
  for (const char* sub : {"a", "b", "c"}) {
    std::filesystem::create_directory(dir.file(sub));
    o.out = dir.file(std::string(sub) + "/m.gguf");
    if (sub[0] == 'c') o.seed = 8;
    make_model(o);
  }
  const auto a = test_files::read_bytes(dir.file("a/m.gguf"));
  EXPECT_EQ(a, test_files::read_bytes(dir.file("b/m.gguf")));
  EXPECT_NE(a, test_files::read_bytes(dir.file("c/m.gguf")));

  const Model m = load_model(dir.file("a/m.gguf"));
  EXPECT_EQ(m.config.dim, 64);
  EXPECT_EQ(m.config.hidden_dim, 80);
  EXPECT_EQ(m.config.n_kv_heads, 2);
  EXPECT_EQ(m.config.kv_dim(), 32);
  EXPECT_EQ(m.config.vocab_size, 260);  // the byte vocabulary and "▁"
  EXPECT_EQ(m.config.context_length, 32);
  ASSERT_TRUE(m.vocab.has_value());
  std::vector<std::string> pieces = make_byte_vocab().pieces;
  pieces.push_back("\xE2\x96\x81");
  EXPECT_EQ(m.vocab->pieces, pieces);
  const LayerWeights& l1 = m.weights.layers[1];
  EXPECT_EQ(l1.wk.rows, 32);
  EXPECT_EQ(l1.wk.cols, 64);
  EXPECT_EQ(l1.wv.rows, 32);
  EXPECT_EQ(l1.wq.type, TensorType::Q8_0);
  EXPECT_EQ(l1.w_gate.type, TensorType::Q8_0);
  EXPECT_EQ(l1.w_down.type, TensorType::F16);
  EXPECT_EQ(l1.w_down.cols, 80);
  EXPECT_FALSE(m.weights.shared_classifier);
  EXPECT_EQ(m.weights.output.type, TensorType::Q8_0);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(l1.ffn_norm.f32()[i], 1.0f);
  // Values of scale 1/sqrt(cols): uniform within sqrt(3/cols), mean near 0, not constant.
  std::vector<float> row(64);
  double sum = 0, sum_sq = 0;
  for (int64_t r = 0; r < l1.wq.rows; ++r) {
    dequantize_row(l1.wq.type, l1.wq.row(r), row.data(), 64);
    for (float x : row) {
      EXPECT_LE(std::fabs(x), std::sqrt(3.0f / 64) * 1.01f);
      sum += x;
      sum_sq += static_cast<double>(x) * x;
    }
  }
  const double n = 64.0 * 64, mean = sum / n, var = sum_sq / n - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(var, 1.0 / 64, 0.2 / 64);
}

TEST(MakeModel, VocabularyFromTokenizerBin) {
  TempDir dir;
  MakeModelOptions o;
  o.dim = 32;
  o.hidden_dim = 64;
  o.n_layers = 1;
  o.n_heads = 2;
  o.n_kv_heads = 1;
  o.context_length = 16;
  o.vocab_from = kTok512;
  o.type = TensorType::Q4_0;
  o.out = dir.file("m.gguf");
  make_model(o);
  const Model m = load_model(o.out);
  EXPECT_EQ(m.config.vocab_size, 512);
  EXPECT_EQ(m.vocab->pieces, load_tokenizer_bin(kTok512).pieces);
  EXPECT_EQ(m.weights.token_embd.type, TensorType::Q4_0);
  EXPECT_EQ(m.weights.layers[0].w_down.type, TensorType::Q4_0);
}

TEST(MakeModel, RejectsBadOptions) {
  TempDir dir;
  auto msg = [&](auto edit) {
    MakeModelOptions o;
    o.out = dir.file("x.gguf");
    edit(o);
    return error_of([&] { make_model(o); });
  };
  EXPECT_EQ(msg([](MakeModelOptions& o) { o.dim = 0; }),
            "make-model: dim 0 is out of range (1..65536)");
  EXPECT_EQ(msg([](MakeModelOptions& o) { o.n_heads = 5; }),
            "make-model: dim 288 is not a positive multiple of n_heads 5");
  EXPECT_EQ(msg([](MakeModelOptions& o) { o.n_kv_heads = 4; }),
            "make-model: n_heads 6 is not a multiple of n_kv_heads 4");
  EXPECT_EQ(msg([](MakeModelOptions& o) { o.n_heads = o.n_kv_heads = 32; }),
            "make-model: head size 9 is odd; RoPE needs pairs");
  EXPECT_EQ(msg([](MakeModelOptions& o) { o.n_layers = -1; }),
            "make-model: n_layers -1 is out of range (1..1024)");
  EXPECT_EQ(msg([](MakeModelOptions& o) { o.context_length = 0; }),
            "make-model: context_length 0 is out of range (1..4194304)");
  EXPECT_EQ(msg([](MakeModelOptions& o) { o.out.clear(); }), "make-model: no output path");
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.gguf")));
}

// --- Fuzz seeds --------------------------------------------------------------------

// The seed corpora under tests/fuzz/corpus: small valid files, regenerated by the
// DISABLED_ test below (run with --gtest_also_run_disabled_tests). GGUF seeds have no
// .gguf extension, which .gitignore excludes.
void write_fuzz_seeds(const std::string& gguf_dir, const std::string& llama2c_dir) {
  TempDir tmp;
  std::filesystem::create_directories(gguf_dir);
  std::filesystem::create_directories(llama2c_dir);
  test_files::write_bytes(tmp.file("tok8.bin"),
                          test_files::tokenizer_bin(test_files::tiny_pieces(8)));

  test_files::Llama2cSpec shared;
  test_files::write_bytes(llama2c_dir + "/shared.bin", shared.bytes());
  test_files::Llama2cSpec gqa;
  gqa.shared = false;
  gqa.n_heads = 4;
  gqa.n_kv_heads = 2;
  test_files::write_bytes(llama2c_dir + "/wcls_gqa.bin", gqa.bytes());

  convert_llama2c_to_gguf({llama2c_dir + "/shared.bin", tmp.file("tok8.bin"),
                           gguf_dir + "/shared_f16", TensorType::F16});
  MakeModelOptions o;
  o.dim = 8;
  o.hidden_dim = 16;
  o.n_layers = 1;
  o.n_heads = 2;
  o.n_kv_heads = 1;
  o.context_length = 8;
  o.vocab_from = tmp.file("tok8.bin");
  o.out = gguf_dir + "/random_f32";
  make_model(o);
  o.dim = 32;
  o.hidden_dim = 32;
  o.type = TensorType::Q4_0;
  o.out = gguf_dir + "/random_q4_0";
  make_model(o);
}

const std::string kCorpus = LLMOPS_SOURCE_DIR "/tests/fuzz/corpus";

TEST(FuzzSeeds, DISABLED_Regenerate) {
  write_fuzz_seeds(kCorpus + "/gguf_fuzz", kCorpus + "/llama2c_fuzz");
}

TEST(FuzzSeeds, CommittedSeedsAreSmallValidModels) {
  for (const char* corpus : {"gguf_fuzz", "llama2c_fuzz"}) {
    size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(kCorpus + "/" + corpus)) {
      const auto bytes = test_files::read_bytes(entry.path().string());
      EXPECT_LT(bytes.size(), 8192u) << entry.path();
      EXPECT_NO_THROW(model_from_bytes(bytes.data(), bytes.size(), entry.path().string()))
          << entry.path();
      ++n;
    }
    EXPECT_GE(n, 2u) << corpus;
  }
}

TEST(FuzzSeeds, GeneratorIsDeterministic) {
  TempDir a, b;
  write_fuzz_seeds(a.file("g"), a.file("l"));
  write_fuzz_seeds(b.file("g"), b.file("l"));
  for (const char* f :
       {"g/shared_f16", "g/random_f32", "g/random_q4_0", "l/shared.bin", "l/wcls_gqa.bin"}) {
    EXPECT_EQ(test_files::read_bytes(a.file(f)), test_files::read_bytes(b.file(f))) << f;
  }
}

}  // namespace
}  // namespace llmops::engine
