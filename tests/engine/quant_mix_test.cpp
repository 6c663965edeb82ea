// The per-tensor types of `convert --type` / `make-model --type`: llama.cpp's Q4_K_M and
// Q5_K_M rules, the uniform types, and the fallbacks for rows that are not whole blocks.
#include "engine/quant_mix.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace llmops::engine {
namespace {

TEST(FileType, NamesAndLlamaFileTypes) {
  struct Case {
    const char* name;
    FileType type;
    uint32_t ftype;
  };
  for (const Case& c : {Case{"f32", TensorType::F32, 0}, Case{"f16", TensorType::F16, 1},
                        Case{"bf16", TensorType::BF16, 32}, Case{"q8_0", TensorType::Q8_0, 7},
                        Case{"q4_0", TensorType::Q4_0, 2}, Case{"q4_k", TensorType::Q4_K, 14},
                        Case{"q5_k", TensorType::Q5_K, 16}, Case{"q6_k", TensorType::Q6_K, 18},
                        Case{"q4_k_m", FileType(TensorType::Q4_K, true), 15},
                        Case{"q5_k_m", FileType(TensorType::Q5_K, true), 17}}) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(parse_file_type(c.name), c.type);
    EXPECT_EQ(file_type_name(c.type), c.name);
    EXPECT_EQ(llama_file_type(c.type), c.ftype);
  }
  try {
    parse_file_type("q3_k_m");
    FAIL() << "accepted q3_k_m";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("q4_k_m"), std::string::npos) << e.what();
  }
  EXPECT_THROW(TensorTypePlan(FileType(TensorType::Q6_K, true), 4, true), std::invalid_argument);
}

// llama.cpp's use_more_bits for 32 layers: the first and last 4, then every third from 6.
TEST(TensorTypePlan, UseMoreBitsLayers) {
  std::vector<int> more;
  for (int l = 0; l < 32; ++l) {
    if (TensorTypePlan::use_more_bits(l, 32)) more.push_back(l);
  }
  EXPECT_EQ(more, (std::vector<int>{0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31}));
}

std::vector<int64_t> matrix(int64_t cols, int64_t rows) {
  return {cols, rows};
}

TEST(TensorTypePlan, Q4KMediumAsLlamaCpp) {
  const TensorTypePlan plan(parse_file_type("q4_k_m"), 16, /*has_output=*/true);
  auto type = [&](const std::string& name, std::vector<int64_t> dims = matrix(2048, 2048)) {
    return plan.type_for(name, dims, TensorType::F32);
  };
  EXPECT_EQ(type("output.weight", matrix(2048, 32000)), TensorType::Q6_K);
  EXPECT_EQ(type("token_embd.weight", matrix(2048, 32000)), TensorType::Q4_K);
  EXPECT_EQ(type("blk.5.attn_q.weight"), TensorType::Q4_K);
  EXPECT_EQ(type("blk.5.attn_k.weight"), TensorType::Q4_K);
  EXPECT_EQ(type("blk.5.attn_output.weight"), TensorType::Q4_K);
  EXPECT_EQ(type("blk.5.ffn_gate.weight"), TensorType::Q4_K);
  EXPECT_EQ(type("blk.5.ffn_up.weight"), TensorType::Q4_K);
  // use_more_bits(l, 16): 0, 1, 4, 7, 10, 13, 14, 15.
  for (int l = 0; l < 16; ++l) {
    const bool more = l < 2 || l >= 14 || (l - 2) % 3 == 2;
    const TensorType want = more ? TensorType::Q6_K : TensorType::Q4_K;
    EXPECT_EQ(type("blk." + std::to_string(l) + ".attn_v.weight"), want) << l;
    EXPECT_EQ(type("blk." + std::to_string(l) + ".ffn_down.weight", matrix(5632, 2048)), want) << l;
  }
  EXPECT_EQ(type("blk.0.attn_qkv.weight"), TensorType::Q5_K);
  // Norms, biases and other vectors keep their type; so do expert routers.
  EXPECT_EQ(plan.type_for("blk.0.attn_norm.weight", {2048}, TensorType::F32), TensorType::F32);
  EXPECT_EQ(plan.type_for("blk.0.attn_q.bias", {2048}, TensorType::F16), TensorType::F16);
  EXPECT_EQ(plan.type_for("blk.0.attn_q_norm.weight", {128}, TensorType::F32), TensorType::F32);
  EXPECT_EQ(plan.type_for("rope_freqs.weight", {64}, TensorType::F32), TensorType::F32);
  EXPECT_EQ(plan.type_for("blk.0.ffn_gate_inp.weight", matrix(2048, 8), TensorType::F32),
            TensorType::F32);
}

TEST(TensorTypePlan, Q5KMediumAndTiedClassifier) {
  const TensorTypePlan plan(parse_file_type("q5_k_m"), 8, /*has_output=*/false);
  EXPECT_EQ(plan.type_for("token_embd.weight", matrix(1024, 1000), TensorType::F16),
            TensorType::Q6_K);  // the classifier when there is no output.weight
  EXPECT_EQ(plan.type_for("blk.0.attn_v.weight", matrix(1024, 256), TensorType::F32),
            TensorType::Q6_K);
  EXPECT_EQ(plan.type_for("blk.2.attn_v.weight", matrix(1024, 256), TensorType::F32),
            TensorType::Q5_K);
  EXPECT_EQ(plan.type_for("blk.7.ffn_down.weight", matrix(2816, 1024), TensorType::F32),
            TensorType::Q6_K);
  EXPECT_EQ(plan.type_for("blk.0.attn_qkv.weight", matrix(1024, 3072), TensorType::F32),
            TensorType::Q6_K);
}

// Rows that K-quants cannot hold: Q6_K → Q8_0, Q4_K / Q5_K → Q8_0, then F16 below 32.
TEST(TensorTypePlan, FallbacksForRowsThatAreNotWholeBlocks) {
  const TensorTypePlan q4km(parse_file_type("q4_k_m"), 4, true);
  EXPECT_EQ(q4km.type_for("blk.1.attn_q.weight", matrix(288, 288), TensorType::F32),
            TensorType::Q8_0);
  EXPECT_EQ(q4km.type_for("blk.0.attn_v.weight", matrix(288, 288), TensorType::F32),
            TensorType::Q8_0);  // Q6_K by the rule, Q8_0 by the rows
  EXPECT_EQ(q4km.type_for("output.weight", matrix(288, 32000), TensorType::F32), TensorType::Q8_0);
  EXPECT_EQ(q4km.type_for("blk.1.ffn_down.weight", matrix(172, 64), TensorType::F32),
            TensorType::F16);
  const TensorTypePlan q6k(TensorType::Q6_K, 4, true);
  EXPECT_EQ(q6k.type_for("blk.1.attn_q.weight", matrix(2048, 2048), TensorType::F32),
            TensorType::Q6_K);
  EXPECT_EQ(q6k.type_for("blk.1.attn_q.weight", matrix(288, 288), TensorType::F32),
            TensorType::Q8_0);
  const TensorTypePlan q8(TensorType::Q8_0, 4, true);
  EXPECT_EQ(q8.type_for("blk.1.ffn_down.weight", matrix(172, 64), TensorType::F32),
            TensorType::F16);
  EXPECT_EQ(q8.type_for("output.weight", matrix(64, 512), TensorType::F32), TensorType::Q8_0);
}

// Uniform types apply to every weight matrix, the classifier included, with no rules.
TEST(TensorTypePlan, UniformTypes) {
  for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q4_0,
                       TensorType::Q4_K, TensorType::Q5_K}) {
    const TensorTypePlan plan(t, 16, true);
    for (const char* name :
         {"output.weight", "token_embd.weight", "blk.0.attn_v.weight", "blk.0.ffn_down.weight"}) {
      EXPECT_EQ(plan.type_for(name, matrix(1024, 512), TensorType::Q8_0), t) << name;
    }
    EXPECT_EQ(plan.type_for("output_norm.weight", {1024}, TensorType::F32), TensorType::F32);
  }
}

}  // namespace
}  // namespace llmops::engine
