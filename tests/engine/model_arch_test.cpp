// The architectures (model_arch.h): what make-model writes for each, what the loader
// requires, and that each difference changes the forward pass where it should.
#include "engine/model_arch.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/errors.h"
#include "engine/gguf.h"
#include "engine/kv_cache.h"
#include "engine/mapped_file.h"
#include "engine/model_loader.h"
#include "engine/model_writer.h"
#include "engine/transformer.h"
#include "test_files.h"

namespace llmops::engine {
namespace {

using test_files::TempDir;

MakeModelOptions small(const std::string& arch, const std::string& out) {
  MakeModelOptions o;
  o.arch = arch;
  o.dim = 32;
  o.hidden_dim = 64;
  o.n_layers = 2;
  o.n_heads = 2;
  o.n_kv_heads = 1;
  o.context_length = 16;
  o.out = out;
  return o;
}

TEST(ModelArch, KnowsTheSupportedArchitectures) {
  EXPECT_EQ(supported_archs(), "llama, qwen2, qwen3, gemma3");
  EXPECT_EQ(find_arch("mamba"), nullptr);
  EXPECT_EQ(find_arch("qwen3")->rope_style, RopeStyle::Halves);
  EXPECT_EQ(find_arch("llama")->rope_style, RopeStyle::AdjacentPairs);
}

TEST(ModelArch, EachArchitectureLoadsWithItsTensors) {
  TempDir dir;
  struct Case {
    const char* arch;
    std::vector<const char*> tensors;  // beyond Llama's
  };
  const std::vector<Case> cases = {
      {"llama", {}},
      {"qwen2", {"blk.0.attn_q.bias", "blk.0.attn_k.bias", "blk.1.attn_v.bias"}},
      {"qwen3", {"blk.0.attn_q_norm.weight", "blk.1.attn_k_norm.weight"}},
      {"gemma3",
       {"blk.0.attn_q_norm.weight", "blk.0.post_attention_norm.weight",
        "blk.1.post_ffw_norm.weight"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.arch);
    MakeModelOptions o = small(c.arch, dir.file(std::string(c.arch) + ".gguf"));
    // A head size other than dim / heads, except for qwen2 (llama.cpp reads none there).
    const bool qwen2 = std::string(c.arch) == "qwen2";
    const int head = qwen2 ? 16 : 8;
    o.head_dim = qwen2 ? 0 : head;
    make_model(o);
    const auto file = MappedFile::open(o.out);
    const GgufFile g = GgufFile::parse(file->data(), file->size(), o.out);
    EXPECT_EQ(g.get_string("general.architecture"), c.arch);
    EXPECT_EQ(g.find_u32(std::string(c.arch) + ".attention.key_length"),
              qwen2 ? std::nullopt : std::optional<uint32_t>(8));
    for (const char* t : c.tensors) EXPECT_NE(g.find_tensor(t), nullptr) << t;
    const Model m = load_model(o.out);
    EXPECT_EQ(m.config.arch, c.arch);
    EXPECT_EQ(m.config.head_size(), head);
    EXPECT_EQ(m.config.q_dim(), 2 * head);
    EXPECT_EQ(m.weights.layers[0].wq.rows, 2 * head);
    EXPECT_EQ(m.weights.layers[0].wo.cols, 2 * head);
    EXPECT_EQ(m.weights.layers[1].bq.data != nullptr, std::string(c.arch) == "qwen2");
    EXPECT_EQ(m.weights.layers[1].q_norm.data != nullptr,
              std::string(c.arch) == "qwen3" || std::string(c.arch) == "gemma3");
    if (std::string(c.arch) == "gemma3") {
      EXPECT_EQ(m.config.sliding_window, 512);
      EXPECT_FLOAT_EQ(m.config.embedding_scale, std::sqrt(32.0f));
      EXPECT_EQ(m.config.activation, Activation::GeluTanh);
      EXPECT_TRUE(m.config.sliding(0));
      EXPECT_FALSE(m.config.sliding(5));
    }
  }
}

// Rewrites `path` into `out` without the tensor `drop_tensor`, and with another
// general.architecture when `arch` is not empty.
void rewrite(const std::string& path, const std::string& out, const std::string& drop_tensor,
             const std::string& arch = "") {
  const auto file = MappedFile::open(path);
  const GgufFile g = GgufFile::parse(file->data(), file->size(), path);
  GgufWriter w;
  for (const std::string& key : g.keys()) {
    if (key == "general.architecture" && !arch.empty()) {
      w.add(key, GgufValue::scalar(arch));
    } else {
      w.add(key, *g.find(key));
    }
  }
  for (const GgufTensorInfo& t : g.tensors()) {
    if (t.name == drop_tensor) continue;
    const size_t size = t.size_bytes;
    const uint8_t* data = file->data() + t.file_offset;
    w.add_tensor(t.name, t.dims, t.type,
                 [data, size] { return std::vector<uint8_t>(data, data + size); });
  }
  w.write(out);
}

std::string load_error(const std::string& path) {
  try {
    (void)load_model(path);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

TEST(ModelArch, MissingTensorsAndUnknownArchitecturesAreClearErrors) {
  TempDir dir;
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"qwen2", "blk.1.attn_k.bias"},
      {"qwen3", "blk.0.attn_q_norm.weight"},
      {"gemma3", "blk.1.post_ffw_norm.weight"},
      {"llama", "blk.0.ffn_gate.weight"},
  };
  for (const auto& [arch, tensor] : cases) {
    const MakeModelOptions o = small(arch, dir.file(std::string(arch) + ".gguf"));
    make_model(o);
    const std::string broken = dir.file(std::string(arch) + "-broken.gguf");
    rewrite(o.out, broken, tensor);
    EXPECT_NE(load_error(broken).find("missing tensor " + std::string(tensor) +
                                      " (required by architecture " + arch + ")"),
              std::string::npos)
        << load_error(broken);
  }
  const MakeModelOptions o = small("llama", dir.file("l.gguf"));
  make_model(o);
  rewrite(o.out, dir.file("falcon.gguf"), "", "falcon");
  EXPECT_NE(load_error(dir.file("falcon.gguf"))
                .find("general.architecture is \"falcon\", which is not supported (supported: "
                      "llama, qwen2, qwen3, gemma3)"),
            std::string::npos);
  MakeModelOptions qwen2 = small("qwen2", dir.file("q.gguf"));
  qwen2.head_dim = 8;
  EXPECT_THROW(make_model(qwen2), std::invalid_argument);
  MakeModelOptions bad = small("mamba", dir.file("m.gguf"));
  try {
    make_model(bad);
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("architecture \"mamba\" is not supported"),
              std::string::npos);
  }
}

// Logits of `tokens` fed one by one, position after position.
std::vector<std::vector<float>> run(const Model& m, const std::vector<int32_t>& tokens) {
  Transformer t(m);
  KvCache cache(m.config, static_cast<int>(tokens.size()));
  std::vector<std::vector<float>> out;
  for (size_t p = 0; p < tokens.size(); ++p) {
    const float* l = t.forward(cache, tokens[p], static_cast<int>(p));
    out.emplace_back(l, l + m.config.vocab_size);
  }
  return out;
}

// Two models with the same weights, differing in one setting: the logits must agree where
// the setting cannot matter yet and differ where it does.
TEST(ModelArch, SlidingWindowsAndRopeFrequenciesAct) {
  TempDir dir;
  const std::vector<int32_t> tokens = {1, 40, 41, 42, 43, 44, 45, 46};
  MakeModelOptions window = small("gemma3", dir.file("w3.gguf"));
  window.sliding_window = 3;
  make_model(window);
  MakeModelOptions wide = small("gemma3", dir.file("w64.gguf"));
  wide.sliding_window = 64;
  make_model(wide);
  const auto a = run(load_model(window.out), tokens);
  const auto b = run(load_model(wide.out), tokens);
  for (size_t p = 0; p < 3; ++p) EXPECT_EQ(a[p], b[p]) << p;  // the window holds everything
  for (size_t p = 3; p < tokens.size(); ++p) EXPECT_NE(a[p], b[p]) << p;

  MakeModelOptions plain = small("llama", dir.file("plain.gguf"));
  plain.rope_theta = 500000;
  make_model(plain);
  MakeModelOptions scaled = plain;
  scaled.out = dir.file("scaled.gguf");
  scaled.rope_freqs = true;
  make_model(scaled);
  const auto c = run(load_model(plain.out), tokens);
  const auto d = run(load_model(scaled.out), tokens);
  EXPECT_EQ(c[0], d[0]);  // position 0 rotates by nothing
  EXPECT_NE(c[5], d[5]);
}

}  // namespace
}  // namespace llmops::engine
