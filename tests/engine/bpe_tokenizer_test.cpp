// Byte-level BPE, its pre-tokenizers and special tokens (tokenizer.h), on small
// hand-built vocabularies whose right answers follow from the rules; the real Llama 3 /
// Qwen vocabularies are checked against llama.cpp and Hugging Face in tests/checkers.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/errors.h"
#include "engine/pre_tokenizer.h"
#include "engine/tokenizer.h"
#include "engine/tokenizer_data.h"
#include "engine/unicode.h"

namespace llmops::engine {
namespace {

using Words = std::vector<std::string>;

struct SplitCase {
  PreTokenizer pre;
  std::string text;
  Words words;
};

TEST(PreTokenizer, SplitsAsTheRegexes) {
  const std::vector<SplitCase> cases = {
      {PreTokenizer::Llama3, "Hello world", {"Hello", " world"}},
      {PreTokenizer::Llama3, "It's", {"It", "'s"}},
      {PreTokenizer::Llama3, "IT'S", {"IT", "'S"}},  // contractions ignore case
      {PreTokenizer::Llama3, "'sup", {"'s", "up"}},  // the first alternative wins
      {PreTokenizer::Llama3, "12345", {"123", "45"}},
      {PreTokenizer::Llama3, "a  b", {"a", " ", " b"}},
      {PreTokenizer::Llama3, "x\n\ny", {"x", "\n\n", "y"}},
      {PreTokenizer::Llama3, "  \n  x", {"  \n", " ", " x"}},
      {PreTokenizer::Llama3, "hello!!!\n\nworld", {"hello", "!!!\n\n", "world"}},
      {PreTokenizer::Llama3, " ?!", {" ?!"}},
      {PreTokenizer::Llama3, "\thello", {"\thello"}},
      {PreTokenizer::Llama3, " 42", {" ", "42"}},
      {PreTokenizer::Llama3, "trailing  ", {"trailing", "  "}},
      {PreTokenizer::Llama3, "\xE6\x97\xA5\xE6\x9C\xAC 1", {"\xE6\x97\xA5\xE6\x9C\xAC", " ", "1"}},
      {PreTokenizer::Llama3,
       "\xF0\x9F\x99\x82\xF0\x9F\x99\x82",
       {"\xF0\x9F\x99\x82\xF0\x9F\x99\x82"}},
      {PreTokenizer::Qwen2, "12345", {"1", "2", "3", "4", "5"}},
      {PreTokenizer::Qwen2, "It's 7", {"It", "'s", " ", "7"}},
      {PreTokenizer::Gpt2, "Hello world", {"Hello", " world"}},
      {PreTokenizer::Gpt2, "IT'S", {"IT", "'", "S"}},  // case-sensitive contractions
      {PreTokenizer::Gpt2, "a  b", {"a", " ", " b"}},
      {PreTokenizer::Gpt2, " 12345", {" 12345"}},
      {PreTokenizer::Gpt2, "x\n\ny", {"x", "\n", "\n", "y"}},  // \s+(?!\S) leaves one
      {PreTokenizer::Default, "a+b=12345", {"a", "+", "b", "=", "123", "45"}},
      {PreTokenizer::Default, "Hello, world!", {"Hello", ",", " world", "!"}},
      {PreTokenizer::Smollm, "ab 123", {"ab", " ", "1", "2", "3"}},
      // Invalid UTF-8 becomes U+FFFD.
      {PreTokenizer::Llama3, "a\xFF", {"a", "\xEF\xBF\xBD"}},
  };
  for (const SplitCase& c : cases) {
    EXPECT_EQ(pre_tokenize(c.pre, c.text), c.words)
        << pre_tokenizer_name(c.pre) << ": \"" << c.text << "\"";
  }
}

TEST(PreTokenizer, NamesAndUnknownNames) {
  EXPECT_EQ(parse_pre_tokenizer("llama-bpe"), PreTokenizer::Llama3);
  EXPECT_EQ(parse_pre_tokenizer("qwen2"), PreTokenizer::Qwen2);
  EXPECT_EQ(parse_pre_tokenizer("default"), PreTokenizer::Default);
  EXPECT_FALSE(parse_pre_tokenizer("deepseek-llm").has_value());
  EXPECT_FALSE(parse_pre_tokenizer("").has_value());
}

// Every byte's GPT-2 character, then `extra` pieces (in byte-level spelling), then
// special tokens; `merges` in byte-level spelling.
Vocab bpe_vocab(const std::vector<std::string>& extra, const std::vector<std::string>& merges,
                PreTokenizer pre = PreTokenizer::Llama3,
                const std::vector<std::pair<std::string, TokenType>>& specials = {}) {
  Vocab v;
  v.model = VocabModel::BytePairEncoding;
  v.pre = pre;
  for (int b = 0; b < 256; ++b)
    v.pieces.push_back(bpe_bytes_to_piece(std::string(1, static_cast<char>(b))));
  for (const std::string& p : extra) v.pieces.push_back(p);
  v.types.assign(v.pieces.size(), TokenType::Normal);
  for (const auto& [text, type] : specials) {
    v.pieces.push_back(text);
    v.types.push_back(type);
  }
  v.scores.assign(v.pieces.size(), 0.0f);
  v.merges = merges;
  v.bos_id = v.eos_id = v.unk_id = -1;
  v.add_bos = false;
  v.add_space_prefix = false;
  return v;
}

int32_t id_of(const Tokenizer& t, std::string_view bytes) {
  return t.find_piece(bpe_bytes_to_piece(bytes));
}

TEST(BpeTokenizer, MergesByRankLeftmostFirst) {
  // "ab" before "bc": "abc" becomes "ab" + "c"; "bcbc" merges both pairs.
  const Tokenizer t(bpe_vocab({"ab", "bc", "abc"}, {"a b", "b c", "ab c"}, PreTokenizer::Qwen2));
  EXPECT_EQ(t.tokenize("abc", false), (std::vector<int32_t>{id_of(t, "abc")}));
  EXPECT_EQ(t.tokenize("bcbc", false), (std::vector<int32_t>{id_of(t, "bc"), id_of(t, "bc")}));
  // No merge for "ca": characters stay single.
  EXPECT_EQ(t.tokenize("ca", false), (std::vector<int32_t>{'c', 'a'}));
  const Tokenizer lower_rank(bpe_vocab({"ab", "bc"}, {"b c", "a b"}, PreTokenizer::Qwen2));
  EXPECT_EQ(lower_rank.tokenize("abc", false),
            (std::vector<int32_t>{'a', id_of(lower_rank, "bc")}));
}

TEST(BpeTokenizer, SpacesAreByteLevelCharacters) {
  const std::string space = bpe_bytes_to_piece(" ");  // "Ġ"
  EXPECT_EQ(space, "\xC4\xA0");
  const Tokenizer t(bpe_vocab({space + "a"}, {space + " a"}));
  EXPECT_EQ(t.tokenize("a a", false), (std::vector<int32_t>{'a', id_of(t, " a")}));
  EXPECT_EQ(t.decode(t.tokenize("a a", false)), "a a");
}

TEST(BpeTokenizer, Llama3WholeWordsSkipMerges) {
  // "abc" is a token but no merge makes it: Llama 3 (ignore_merges) takes it whole,
  // Qwen 2 merges what it can.
  const Tokenizer llama3(bpe_vocab({"ab", "abc"}, {"a b"}, PreTokenizer::Llama3));
  EXPECT_EQ(llama3.tokenize("abc", false), (std::vector<int32_t>{id_of(llama3, "abc")}));
  const Tokenizer qwen2(bpe_vocab({"ab", "abc"}, {"a b"}, PreTokenizer::Qwen2));
  EXPECT_EQ(qwen2.tokenize("abc", false), (std::vector<int32_t>{id_of(qwen2, "ab"), 'c'}));
}

TEST(BpeTokenizer, MergesNeverCrossWords) {
  const std::string space = bpe_bytes_to_piece(" ");
  const Tokenizer t(bpe_vocab({"a" + space}, {"a " + space}));
  // "a " would merge, but the pre-tokenizer cuts "a" | " b".
  EXPECT_EQ(t.tokenize("a b", false), (std::vector<int32_t>{'a', ' ', 'b'}));
}

TEST(BpeTokenizer, RoundTripsUtf8AndStreamsWholeCharacters) {
  const Tokenizer t(bpe_vocab({}, {}));
  const std::string text = "caf\xC3\xA9 \xF0\x9F\x99\x82 \xE6\x97\xA5\xE6\x9C\xAC";
  const std::vector<int32_t> ids = t.tokenize(text, false);
  EXPECT_EQ(ids.size(), text.size());  // no merges: one token per byte
  EXPECT_EQ(t.decode(ids), text);
  // Piece by piece, a multi-byte character comes out only when complete.
  Utf8Stream stream;
  std::string streamed;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string out = stream.push(t.decode_piece(i == 0 ? -1 : ids[i - 1], ids[i]));
    // Each piece of output is whole characters: it decodes on its own.
    EXPECT_EQ(utf8_to_codepoints(out).size(),
              std::count_if(out.begin(), out.end(),
                            [](char c) { return (static_cast<uint8_t>(c) & 0xC0) != 0x80; }))
        << i;
    for (const uint32_t cp : utf8_to_codepoints(out)) EXPECT_NE(cp, 0xFFFDu) << i;
    streamed += out;
  }
  streamed += stream.finish();
  EXPECT_EQ(streamed, text);
}

TEST(SpecialTokens, ControlTokensOnlyWithParseSpecial) {
  const Tokenizer t(
      bpe_vocab({}, {}, PreTokenizer::Llama3,
                {{"<|end|>", TokenType::Control}, {"<tool>", TokenType::UserDefined}}));
  const int32_t end = 256, tool = 257;
  const std::vector<int32_t> special = t.tokenize("a<|end|>b<tool>", true);
  EXPECT_EQ(special, (std::vector<int32_t>{'a', end, 'b', tool}));
  // Without parse_special the control token is text; the user-defined one still matches.
  const std::vector<int32_t> plain = t.tokenize("a<|end|>b<tool>", false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), end), 0);
  EXPECT_EQ(plain.back(), tool);
  EXPECT_EQ(t.decode(plain), "a<|end|>b<tool>");
  EXPECT_EQ(t.decode(special), "ab<tool>");  // control tokens decode to nothing
  // "<|end|>" is a well-known end of turn: it ends generation.
  EXPECT_TRUE(t.is_end_of_generation(end));
  EXPECT_EQ(t.eot(), end);
}

TEST(SpecialTokens, LongestTokensTakeTheirTextFirst) {
  const Tokenizer t(bpe_vocab({}, {}, PreTokenizer::Llama3,
                              {{"xx", TokenType::UserDefined}, {"xxx", TokenType::UserDefined}}));
  const int32_t xx = 256, xxx = 257;
  EXPECT_EQ(t.tokenize("xxxx", false), (std::vector<int32_t>{xxx, 'x'}));
  EXPECT_EQ(t.tokenize("xxxxx", false), (std::vector<int32_t>{xxx, xx}));
  EXPECT_EQ(t.tokenize("axxb", false), (std::vector<int32_t>{'a', xx, 'b'}));
}

TEST(SpecialTokens, NormalTokensSpelledLikeAnEndOfTurnBecomeControl) {
  // llama.cpp turns "</s>" into a control token whatever the file says.
  const Tokenizer t(bpe_vocab({"</s>"}, {}));
  const int32_t id = t.find_piece("</s>");
  EXPECT_EQ(t.vocab().types[static_cast<size_t>(id)], TokenType::Control);
  EXPECT_EQ(t.tokenize("</s>", true), (std::vector<int32_t>{id}));
  EXPECT_EQ(t.tokenize("</s>", false).size(), 4u);
  EXPECT_TRUE(t.is_end_of_generation(id));
}

TEST(BpeTokenizer, RejectsBadMerges) {
  struct Case {
    std::vector<std::string> extra;
    std::vector<std::string> merges;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{"ab"}, {"a q\xC3\xBF"}, "references the unknown token \"q\xC3\xBF\""},
      {{}, {"a b"}, "makes \"ab\", which is not a token"},
      {{"ab"}, {"ab"}, "is not two pieces separated by a space"},
      {{"ab"}, {"a "}, "is not two pieces separated by a space"},
  };
  for (const Case& c : cases) {
    try {
      Tokenizer t(bpe_vocab(c.extra, c.merges));
      ADD_FAILURE() << c.message << ": no error";
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("tokenizer merge 0"), std::string::npos) << e.what();
    }
  }
}

TEST(BpeTokenizer, EncodeAddsBosOnlyWhenAsked) {
  Vocab v = bpe_vocab({}, {}, PreTokenizer::Llama3, {{"<|begin|>", TokenType::Control}});
  v.bos_id = 256;
  v.add_bos = true;
  const Tokenizer t(std::move(v));
  EXPECT_EQ(t.encode_prompt("a"), (std::vector<int32_t>{256, 'a'}));
  EXPECT_EQ(t.encode_prompt(""), (std::vector<int32_t>{256}));
  const Tokenizer no_bos(bpe_vocab({}, {}));
  EXPECT_EQ(no_bos.encode_prompt("a"), (std::vector<int32_t>{'a'}));
  EXPECT_TRUE(no_bos.encode_prompt("").empty());
  EXPECT_THROW(no_bos.encode("a", /*add_bos=*/true), std::invalid_argument);
}

}  // namespace
}  // namespace llmops::engine
