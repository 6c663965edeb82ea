// The fp32 forward pass against llama2.c's reference outputs for the trained test model
// (../shared/models/reference, see its README), and quantized paths against them.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/generate.h"
#include "engine/model.h"
#include "engine/model_tokenizer.h"
#include "engine/model_writer.h"
#include "engine/sampler.h"
#include "engine/thread_pool.h"
#include "kernel_variants.h"

namespace llmops::engine {
namespace {

const std::string kModels = std::string(LLMOPS_SHARED_DIR) + "/models";
const std::string kCheckpoint = kModels + "/aidreams260K.bin";
const std::string kTokenizer = kModels + "/tok512.bin";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<int32_t> read_ids(const std::string& path) {
  std::istringstream in(read_file(path));
  std::vector<int32_t> ids;
  for (int32_t id; in >> id;) ids.push_back(id);
  return ids;
}

// The reference up to and including the first EOS (the runtime stops there; run.c
// does not).
std::vector<int32_t> until_eos(std::vector<int32_t> ids) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == 2) {
      ids.resize(i + 1);
      break;
    }
  }
  return ids;
}

std::filesystem::path temp_dir() {
  auto dir =
      std::filesystem::temp_directory_path() / ("llmops-reference-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

struct Prompt {
  std::string text;
  std::string file_suffix;
};

const std::vector<Prompt> kPrompts = {
    {"", "empty"}, {"The robot", "The_robot"}, {"Whispers of", "Whispers_of"}};

std::vector<int32_t> greedy_ids(const Model& model, const Tokenizer& tokenizer,
                                const std::string& prompt, GenerationResult* out = nullptr) {
  Transformer transformer(model);
  GenerationOptions options;
  options.max_tokens = 1000;  // the context (128) ends it
  options.sampling.temperature = 0.0f;
  GenerationResult result = generate(transformer, tokenizer, prompt, options);
  std::vector<int32_t> ids = result.prompt_ids;
  ids.insert(ids.end(), result.generated.begin(), result.generated.end());
  if (out) *out = std::move(result);
  return ids;
}

TEST(Reference, Fp32GreedyIdsAndTextMatchLlama2cWithEveryKernelVariant) {
  const Model model = load_model(kCheckpoint);
  const Tokenizer tokenizer = load_tokenizer_for(model, kTokenizer);
  for (KernelVariant v : supported_variants()) {
    VariantScope scope(v);
    for (const auto& p : kPrompts) {
      SCOPED_TRACE("kernels " + std::string(kernel_variant_name(v)) + ", prompt '" + p.text + "'");
      const auto reference = read_ids(kModels + "/reference/ids_" + p.file_suffix + ".txt");
      ASSERT_EQ(reference.size(), 129u);
      GenerationResult result;
      EXPECT_EQ(greedy_ids(model, tokenizer, p.text, &result), until_eos(reference));

      // The printed text: the prompt as tokenized, then the completion (up to EOS).
      std::string expected = read_file(kModels + "/reference/greedy_" + p.file_suffix + ".txt");
      if (auto eos = expected.find("\n</s>\n"); eos != std::string::npos) {
        expected.resize(eos);
        EXPECT_EQ(result.finish, FinishReason::Eos);
      } else {
        ASSERT_EQ(expected.back(), '\n');
        expected.pop_back();
        EXPECT_EQ(result.finish, FinishReason::ContextFull);
      }
      EXPECT_EQ(tokenizer.decode(result.prompt_ids) + result.text, expected);
    }
  }
}

TEST(Reference, Fp32LogitsMatchLlama2cWithin1e4WithEveryKernelVariant) {
  const Model model = load_model(kCheckpoint);
  for (KernelVariant v : supported_variants()) {
    SCOPED_TRACE("kernels " + std::string(kernel_variant_name(v)));
    VariantScope scope(v);
    ThreadPool pool(2);
    std::istringstream in(read_file(kModels + "/reference/logits_The_robot_first8.txt"));
    Transformer transformer(model, &pool);
    KvCache cache(model.config, model.config.context_length);
    std::string line;
    int rows = 0;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      int pos = -1, token = -1;
      ASSERT_EQ(std::sscanf(line.c_str(), "pos %d token %d:", &pos, &token), 2) << line;
      std::istringstream values(line.substr(line.find(':') + 1));
      std::vector<float> expected;
      for (float value; values >> value;) expected.push_back(value);
      ASSERT_EQ(expected.size(), 512u);
      ASSERT_EQ(pos, rows);
      const float* logits = transformer.forward(cache, token, pos);
      for (int i = 0; i < 512; ++i) {
        ASSERT_NEAR(logits[i], expected[i], 1e-4) << "pos " << pos << " logit " << i;
      }
      ++rows;
    }
    EXPECT_EQ(rows, 8);
  }
}

TEST(Reference, GgufF32ConversionGeneratesIdenticalIds) {
  const auto dir = temp_dir();
  const std::string out = (dir / "aidreams-f32.gguf").string();
  convert_llama2c_to_gguf({kCheckpoint, kTokenizer, out, TensorType::F32});
  const Model gguf = load_model(out);
  ASSERT_EQ(gguf.format, ModelFormat::Gguf);
  const Tokenizer tokenizer = load_tokenizer_for(gguf, "");  // the vocabulary in the file
  for (const auto& p : kPrompts) {
    SCOPED_TRACE("prompt '" + p.text + "'");
    const auto reference = read_ids(kModels + "/reference/ids_" + p.file_suffix + ".txt");
    EXPECT_EQ(greedy_ids(gguf, tokenizer, p.text), until_eos(reference));
  }
  std::filesystem::remove_all(dir);
}

// Feeds the reference sequence and counts the generated positions (after the prompt)
// where the model's argmax equals the reference's next token.
double teacher_forced_agreement(const Model& model) {
  const Tokenizer tokenizer = load_tokenizer_for(model, "");
  int agree = 0, total = 0;
  for (const auto& p : kPrompts) {
    const auto reference = read_ids(kModels + "/reference/ids_" + p.file_suffix + ".txt");
    const size_t prompt_length = tokenizer.encode(p.text, true).size();
    Transformer transformer(model);
    KvCache cache(model.config, model.config.context_length);
    for (size_t pos = 0; pos + 1 < reference.size(); ++pos) {
      const float* logits = transformer.forward(cache, reference[pos], static_cast<int>(pos));
      if (pos + 1 < prompt_length) continue;  // the next token is the prompt's, not sampled
      agree += argmax(logits, model.config.vocab_size) == reference[pos + 1];
      ++total;
    }
  }
  return static_cast<double>(agree) / total;
}

TEST(Reference, QuantizedTeacherForcedAgreement) {
  const auto dir = temp_dir();
  struct Case {
    TensorType type;
    double minimum;
  };
  for (const Case& c : {Case{TensorType::F32, 1.0}, Case{TensorType::F16, 0.99},
                        Case{TensorType::Q8_0, 0.95}, Case{TensorType::Q4_0, 0.85}}) {
    const std::string out =
        (dir / ("aidreams-" + std::string(type_name(c.type)) + ".gguf")).string();
    convert_llama2c_to_gguf({kCheckpoint, kTokenizer, out, c.type});
    const Model model = load_model(out);
    for (KernelVariant v : supported_variants()) {
      VariantScope scope(v);
      const double agreement = teacher_forced_agreement(model);
      std::printf("teacher-forced top-1 agreement %s, %s kernels: %.4f\n",
                  std::string(type_name(c.type)).c_str(),
                  std::string(kernel_variant_name(v)).c_str(), agreement);
      EXPECT_GE(agreement, c.minimum) << type_name(c.type) << " " << kernel_variant_name(v);
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace llmops::engine
