#include "engine/tokenizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/errors.h"

namespace llmops::engine {
namespace {

const std::string kModels = std::string(LLMOPS_SHARED_DIR) + "/models/";
const std::string kTok512 = kModels + "tok512.bin";
const std::string kTok32k = kModels + "tokenizer-llama2-32k.bin";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<int32_t> read_ids(const std::string& path) {
  std::istringstream in(read_text(path));
  std::vector<int32_t> ids;
  for (int32_t id; in >> id;) ids.push_back(id);
  return ids;
}

const Tokenizer& tok512() {
  static const Tokenizer t(load_tokenizer_bin(kTok512));
  return t;
}
const Tokenizer& tok32k() {
  static const Tokenizer t(load_tokenizer_bin(kTok32k));
  return t;
}
const Tokenizer& byte_tok() {
  static const Tokenizer t(make_byte_vocab());
  return t;
}

// A space as SentencePiece spells it in a piece ("▁").
std::string spm_spaces(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == ' ') {
      out += "\xE2\x96\x81";
    } else {
      out += c;
    }
  }
  return out;
}

// <unk>, <s>, </s>, optionally the 256 byte tokens, then `pieces` (spaces as "▁") with
// their scores; run.c's merge rules.
Vocab small_vocab(const std::vector<std::pair<std::string, float>>& pieces, bool bytes) {
  Vocab v;
  if (bytes) {
    v = make_byte_vocab();
  } else {
    v.pieces = {"<unk>", "<s>", "</s>"};
    v.types = {TokenType::Unknown, TokenType::Control, TokenType::Control};
    v.scores = {0, 0, 0};
  }
  v.spm_flavour = SpmFlavour::RunC;
  for (const auto& [piece, score] : pieces) {
    v.pieces.push_back(spm_spaces(piece));
    v.scores.push_back(score);
    v.types.push_back(TokenType::Normal);
  }
  return v;
}

// llama2.c run.c's encode() transcribed (O(n^2) rescans, byte fallback at byte + 3),
// without BOS/EOS: the reference the heap-based merge must agree with.
class RunCReference {
 public:
  explicit RunCReference(const Vocab& v) : v_(v) {
    for (size_t i = 0; i < v.size(); ++i)
      sorted_vocab_.emplace(v.pieces[i], static_cast<int32_t>(i));
  }

  std::vector<int32_t> encode(std::string_view text) const {
    std::vector<int32_t> tokens;
    // run.c pushes -1 here when " " is not a piece (and then reads vocab[-1]); byte
    // fallback is what it should do.
    if (!text.empty()) tokens.push_back(lookup(" ") != -1 ? lookup(" ") : ' ' + 3);
    // (lookup spells spaces as the vocabulary does.)
    std::string buf;
    for (size_t c = 0; c < text.size(); ++c) {
      if ((static_cast<uint8_t>(text[c]) & 0xC0) != 0x80) buf.clear();
      buf.push_back(text[c]);
      if (c + 1 < text.size() && (static_cast<uint8_t>(text[c + 1]) & 0xC0) == 0x80 &&
          buf.size() < 4) {
        continue;
      }
      const int32_t id = lookup(buf);
      if (id != -1) {  // (a chunk's bytes, not its spelling, are the fallback)
        tokens.push_back(id);
      } else {
        for (const char b : buf) tokens.push_back(static_cast<uint8_t>(b) + 3);
      }
      buf.clear();
    }
    for (;;) {
      float best_score = -1e10f;
      int32_t best_id = -1;
      size_t best_idx = 0;
      for (size_t i = 0; i + 1 < tokens.size(); ++i) {
        const int32_t id = find_spelled(piece(tokens[i]) + piece(tokens[i + 1]));
        if (id != -1 && v_.scores[static_cast<size_t>(id)] > best_score) {
          best_score = v_.scores[static_cast<size_t>(id)];
          best_id = id;
          best_idx = i;
        }
      }
      if (best_id == -1) break;
      tokens[best_idx] = best_id;
      tokens.erase(tokens.begin() + static_cast<ptrdiff_t>(best_idx) + 1);
    }
    return tokens;
  }

 private:
  int32_t lookup(const std::string& s) const {
    const auto it = sorted_vocab_.find(spm_spaces(s));
    return it == sorted_vocab_.end() ? -1 : it->second;
  }
  // Pieces are already spelled with "▁".
  int32_t find_spelled(const std::string& s) const {
    const auto it = sorted_vocab_.find(s);
    return it == sorted_vocab_.end() ? -1 : it->second;
  }
  const std::string& piece(int32_t id) const { return v_.pieces[static_cast<size_t>(id)]; }

  const Vocab& v_;
  std::map<std::string, int32_t> sorted_vocab_;  // run.c's bsearch table
};

std::vector<int32_t> run_c_encode(const Vocab& v, std::string_view text) {
  return RunCReference(v).encode(text);
}

// ---------------------------------------------------------------------------------------
// tokenizer.bin parsing

TEST(TokenizerBin, Tok512Types) {
  const Vocab& v = tok512().vocab();
  ASSERT_EQ(v.size(), 512u);
  EXPECT_EQ(v.types[0], TokenType::Unknown);
  EXPECT_EQ(v.types[1], TokenType::Control);
  EXPECT_EQ(v.types[2], TokenType::Control);
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(v.types[static_cast<size_t>(3 + b)], TokenType::Byte) << b;
  }
  EXPECT_EQ(v.pieces[3 + 0x0A], "<0x0A>");
  EXPECT_EQ(v.types[259], TokenType::Normal);
  EXPECT_EQ(v.bos_id, 1);
  EXPECT_EQ(v.eos_id, 2);
  EXPECT_EQ(v.unk_id, 0);
  EXPECT_EQ(tok32k().size(), 32000u);
}

std::string record(float score, int32_t len, std::string_view bytes) {
  std::string r(8, '\0');
  std::memcpy(r.data(), &score, 4);
  std::memcpy(r.data() + 4, &len, 4);
  return r + std::string(bytes);
}

std::string header(uint32_t max_len) {
  std::string h(4, '\0');
  std::memcpy(h.data(), &max_len, 4);
  return h;
}

TEST(TokenizerBin, ParsesHandWrittenFile) {
  const std::string file = header(6) + record(0, 5, "<unk>") + record(0, 3, "<s>") +
                           record(0, 4, "</s>") + record(0, 6, "<0x41>") + record(0, 6, "<0x4a>") +
                           record(-1.5f, 1, " ") + record(-2, 0, "");
  const Vocab v =
      parse_tokenizer_bin(reinterpret_cast<const uint8_t*>(file.data()), file.size(), "hand.bin");
  ASSERT_EQ(v.size(), 7u);
  EXPECT_EQ(v.types[3], TokenType::Byte);
  EXPECT_EQ(v.types[4], TokenType::Normal);  // lowercase hex is not a byte piece
  EXPECT_EQ(v.pieces[5], "\xE2\x96\x81");    // a space, spelled as GGUF does
  EXPECT_EQ(v.scores[5], -1.5f);
  EXPECT_EQ(v.pieces[6], "");
}

struct BadFile {
  const char* name;
  std::string bytes;
  const char* message;  // a substring the error must contain
};

TEST(TokenizerBin, RejectsBadFiles) {
  const std::string ok = record(0, 5, "<unk>");
  const std::vector<BadFile> cases = {
      {"empty", "", "too short for its header: 0 bytes"},
      {"short header", std::string(3, '\x10'), "too short for its header: 3 bytes"},
      {"no tokens", header(8), "has no tokens"},
      {"truncated record header", header(8) + ok + std::string(5, '\0'),
       "token 1 at byte offset 17: record truncated: 5 bytes left"},
      {"truncated piece", header(8) + ok + record(0, 4, "ab"),
       "token 1 at byte offset 17: length 4 runs past the end of the file (2 bytes left)"},
      {"negative length", header(8) + ok + record(0, -3, "abc"),
       "token 1 at byte offset 17: length -3 is negative"},
      {"length over max", header(4) + ok,
       "token 0 at byte offset 4: length 5 exceeds max_token_length 4"},
      {"huge length", header(0xffffffffu) + record(0, 0x7fffffff, "x"), "runs past the end"},
      {"nan score", header(8) + record(std::numeric_limits<float>::quiet_NaN(), 1, "a"),
       "token 0 at byte offset 4: score is not finite (nan)"},
      {"inf score", header(8) + ok + record(-std::numeric_limits<float>::infinity(), 1, "a"),
       "token 1 at byte offset 17: score is not finite (-inf)"},
  };
  for (const auto& c : cases) {
    try {
      parse_tokenizer_bin(reinterpret_cast<const uint8_t*>(c.bytes.data()), c.bytes.size(),
                          "bad.bin");
      ADD_FAILURE() << c.name << ": no error";
    } catch (const ModelError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("bad.bin: "), std::string::npos) << c.name << ": " << what;
      EXPECT_NE(what.find(c.message), std::string::npos) << c.name << ": " << what;
    }
  }
}

TEST(TokenizerBin, LoadReportsIoErrors) {
  const std::string missing = std::string(LLMOPS_BINARY_DIR) + "/no-such-tokenizer.bin";
  try {
    load_tokenizer_bin(missing);
    ADD_FAILURE() << "no error";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
  try {
    load_tokenizer_bin(LLMOPS_BINARY_DIR);  // a directory: refused before it is opened
    ADD_FAILURE() << "no error";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file (a directory)"), std::string::npos)
        << e.what();
  }
}

// ---------------------------------------------------------------------------------------
// Tokenizer construction

TEST(TokenizerVocab, ByteVocab) {
  const Vocab& v = byte_tok().vocab();
  ASSERT_EQ(v.size(), 259u);
  EXPECT_EQ(v.pieces[0], "<unk>");
  EXPECT_EQ(v.pieces[1], "<s>");
  EXPECT_EQ(v.pieces[2], "</s>");
  EXPECT_EQ(v.pieces[3], "<0x00>");
  EXPECT_EQ(v.pieces[3 + 0xAB], "<0xAB>");
  EXPECT_EQ(v.pieces[258], "<0xFF>");
  for (size_t i = 3; i < v.size(); ++i) {
    EXPECT_EQ(v.types[i], TokenType::Byte);
    EXPECT_EQ(v.scores[i], 0.0f);
  }
}

TEST(TokenizerVocab, RejectsInvalidVocabs) {
  struct Case {
    const char* name;
    Vocab vocab;
    const char* message;
  };
  std::vector<Case> cases;
  cases.push_back({"empty", Vocab{}, "vocabulary is empty"});
  Vocab v = make_byte_vocab();
  v.scores.pop_back();
  cases.push_back({"sizes", v, "259 pieces, 258 scores, 259 types"});
  v = make_byte_vocab();
  v.bos_id = 259;
  cases.push_back({"bos", v, "bos_id 259 is outside the vocabulary of 259 tokens"});
  v = make_byte_vocab();
  v.eos_id = -1;
  cases.push_back({"eos", v, "eos_id -1"});
  v = make_byte_vocab();
  v.unk_id = 1000;
  cases.push_back({"unk", v, "unk_id 1000"});
  v = make_byte_vocab();
  v.scores[7] = std::nanf("");
  cases.push_back({"nan", v, "token 7 has a NaN score"});
  v = make_byte_vocab();
  v.pieces[9] = "<0xZZ>";
  cases.push_back({"byte spelling", v, "token 9 has type Byte but is not spelled <0xHH>"});
  for (auto& c : cases) {
    try {
      Tokenizer t(std::move(c.vocab));
      ADD_FAILURE() << c.name << ": no error";
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos)
          << c.name << ": " << e.what();
    }
  }
}

TEST(TokenizerVocab, DuplicatePiecesUseTheFirstId) {
  const Tokenizer t(small_vocab({{" ", 0}, {"ab", -1}, {"a", 0}, {"b", 0}, {"ab", -2}}, true));
  EXPECT_EQ(t.encode("ab", false), (std::vector<int32_t>{259, 260}));
}

// ---------------------------------------------------------------------------------------
// Encoding against llama2.c's reference outputs

TEST(TokenizerEncode, MatchesReferencePrompts) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"The robot", "ids_The_robot.txt"},
      {"Whispers of", "ids_Whispers_of.txt"},
  };
  for (const auto& [prompt, file] : cases) {
    const std::vector<int32_t> ref = read_ids(kModels + "reference/" + file);
    ASSERT_EQ(ref.size(), 129u) << file;
    const std::vector<int32_t> ids = tok512().encode(prompt, true);
    ASSERT_GE(ids.size(), 2u) << prompt;
    ASSERT_LE(ids.size(), ref.size()) << prompt;
    EXPECT_EQ(ids,
              std::vector<int32_t>(ref.begin(), ref.begin() + static_cast<ptrdiff_t>(ids.size())))
        << prompt;
    EXPECT_EQ(tok512().decode(ids), prompt);
  }
  EXPECT_EQ(tok512().encode("", true), std::vector<int32_t>{1});
  EXPECT_EQ(tok512().encode("", false), std::vector<int32_t>{});
  EXPECT_EQ(tok512().encode("", true, true), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(read_ids(kModels + "reference/ids_empty.txt").at(0), 1);
}

TEST(TokenizerDecode, ReproducesReferenceGreedyText) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ids_The_robot.txt", "greedy_The_robot.txt"},
      {"ids_Whispers_of.txt", "greedy_Whispers_of.txt"},
      {"ids_empty.txt", "greedy_empty.txt"},
  };
  for (const auto& [ids_file, text_file] : cases) {
    std::vector<int32_t> ids = read_ids(kModels + "reference/" + ids_file);
    std::string text = read_text(kModels + "reference/" + text_file);
    ASSERT_EQ(ids.size(), 129u);
    ASSERT_FALSE(text.empty());
    // run.c prints EOS as "\n</s>\n" and carries on; we stop before it.
    const auto eos = std::find(ids.begin() + 1, ids.end(), 2);
    if (eos != ids.end()) {
      ids.erase(eos, ids.end());
      text = text.substr(0, text.find("\n</s>\n"));
    } else {
      ASSERT_EQ(text.back(), '\n');
      text.pop_back();
    }
    EXPECT_EQ(tok512().decode(ids), text) << ids_file;

    // The same text streamed piece by piece, as a server prints it.
    Utf8Stream stream;
    std::string streamed;
    for (size_t i = 0; i < ids.size(); ++i) {
      streamed += stream.push(tok512().decode_piece(i == 0 ? -1 : ids[i - 1], ids[i]));
    }
    streamed += stream.finish();
    EXPECT_EQ(streamed, text) << ids_file;
  }
}

TEST(TokenizerEncode, Llama2KnownIds) {
  EXPECT_EQ(tok32k().encode("Hello world", false), (std::vector<int32_t>{15043, 3186}));
  EXPECT_EQ(tok32k().encode("Hello world", true), (std::vector<int32_t>{1, 15043, 3186}));
  EXPECT_EQ(tok32k().encode("Hello world", true, true), (std::vector<int32_t>{1, 15043, 3186, 2}));
  // An explicit leading space adds to the dummy prefix: " " (29871) stays on its own,
  // since "  Hello" is not a piece and " Hello" outscores "  " (score -1e9).
  EXPECT_EQ(tok32k().encode(" Hello world", false), (std::vector<int32_t>{29871, 15043, 3186}));
  EXPECT_EQ(tok32k().decode({1, 15043, 3186}), "Hello world");
}

// Texts that must survive encode → decode with every vocabulary.
const std::vector<std::string> kRoundTripTexts = {
    "Hello world",
    "The robot whispers secrets, fragments of probability unfolding.",
    "  leading and trailing spaces  ",
    " ",
    "a",
    "caf\xC3\xA9 na\xC3\xAFve",                      // é, ï
    "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E",          // 日本語
    "robot \xF0\x9F\xA4\x96!",                       // 🤖
    "e\xCC\x81 a\xCC\x8A\xCC\xA3",                   // combining marks
    "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB",  // 👩‍💻 (ZWJ sequence)
    "tab\there\nnew line\r\n\x01\x02\x1F\x7F",       // control characters
    std::string("nul\0byte", 8),                     // NUL is an ordinary character
    "\xF4\x8F\xBF\xBF \xEF\xBF\xBD \xC2\x80",        // U+10FFFF, U+FFFD, U+0080
    "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich",
    "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82",  // Привет
};

TEST(TokenizerRoundTrip, AllVocabularies) {
  const std::vector<std::pair<const char*, const Tokenizer*>> tokenizers = {
      {"tok512", &tok512()}, {"llama2-32k", &tok32k()}, {"bytes", &byte_tok()}};
  for (const auto& [name, tok] : tokenizers) {
    for (const std::string& text : kRoundTripTexts) {
      const std::vector<int32_t> ids = tok->encode(text, true);
      EXPECT_EQ(tok->decode(ids), text) << name << ": " << text;
      // Without BOS the dummy-prefix space is part of the text.
      EXPECT_EQ(tok->decode(tok->encode(text, false)), " " + text) << name << ": " << text;
    }
  }
}

TEST(TokenizerEncode, ByteFallback) {
  // 日 is not a tok512 piece: its three bytes become <0xE6> <0x97> <0xA5> (ids byte + 3).
  const std::vector<int32_t> ids = tok512().encode("\xE6\x97\xA5", true);
  EXPECT_EQ(ids, (std::vector<int32_t>{1, 429, 3 + 0xE6, 3 + 0x97, 3 + 0xA5}));
  EXPECT_EQ(tok512().vocab().pieces[3 + 0xE6], "<0xE6>");
  EXPECT_EQ(tok512().decode_piece(429, 3 + 0xE6), "\xE6");

  // The byte vocabulary has no " " piece: the dummy prefix is <0x20> too.
  EXPECT_EQ(byte_tok().encode("A\xC3\xA9", true),
            (std::vector<int32_t>{1, 3 + 0x20, 3 + 0x41, 3 + 0xC3, 3 + 0xA9}));

  // No byte tokens at all: an unknown character is one UNK.
  const Tokenizer no_bytes(small_vocab({{" ", 0}, {"a", 0}}, false));
  EXPECT_EQ(no_bytes.encode("a\xC3\xA9z", false), (std::vector<int32_t>{3, 4, 0, 0}));
}

TEST(TokenizerEncode, RunCQuirks) {
  const std::string e_acute = "\xC3\xA9";
  const std::string four_cont = "\x80\x80\x80\x80";
  const Tokenizer t(
      small_vocab({{" ", 0}, {e_acute, 0}, {four_cont, 0}, {"x", 0}, {"xx", -3e10f}}, true));
  const int32_t space = 259, e = 260, cont4 = 261, x = 262;
  struct Case {
    const char* name;
    std::string text;
    std::vector<int32_t> ids;
  };
  const std::vector<Case> cases = {
      {"character found", e_acute, {space, e}},
      // A stray continuation byte joins the character before it: "é\x80" is one chunk,
      // absent, so even the é falls back to bytes.
      {"stray continuation", e_acute + "\x80", {space, 3 + 0xC3, 3 + 0xA9, 3 + 0x80}},
      // Chunks stop at 4 bytes: five continuation bytes are a chunk of 4 and one of 1.
      {"chunk cap", "\x80\x80\x80\x80\x80", {space, cont4, 3 + 0x80}},
      // The dummy prefix is its own token, never the head of a chunk.
      {"prefix apart", four_cont, {space, cont4}},
      // A merge scoring -1e10 or less is never made (run.c's initial best score).
      {"score floor", "xx", {space, x, x}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(t.encode(c.text, false), c.ids) << c.name;
    EXPECT_EQ(run_c_encode(t.vocab(), c.text), c.ids) << c.name;
  }
}

TEST(TokenizerEncode, TiesMergeTheLeftmostPair) {
  const Tokenizer t(small_vocab({{"a", 0}, {"b", 0}, {"ab", -1}, {"ba", -1}}, true));
  const int32_t space = 3 + 0x20, a = 259, b = 260, ab = 261, ba = 262;
  const std::vector<std::pair<std::string, std::vector<int32_t>>> cases = {
      {"aba", {space, ab, a}},
      {"bab", {space, ba, b}},
      {"abab", {space, ab, ab}},
  };
  for (const auto& [text, ids] : cases) {
    EXPECT_EQ(t.encode(text, false), ids) << text;
    EXPECT_EQ(run_c_encode(t.vocab(), text), ids) << text;
  }
}

// The heap-based merge against a literal transcription of run.c on random texts.
TEST(TokenizerEncode, AgreesWithRunCOnRandomText) {
  std::mt19937 rng(1234);
  const std::vector<std::string> alphabet = {"a",
                                             "e",
                                             "i",
                                             "o",
                                             "t",
                                             "h",
                                             "s",
                                             " ",
                                             " ",
                                             " ",
                                             "the",
                                             "ing",
                                             ",",
                                             ".",
                                             "\n",
                                             "\xC3\xA9",
                                             "\xE6\x97\xA5",
                                             "\xF0\x9F\xA4\x96",
                                             "\x80",
                                             "\xFF",
                                             "\xC3",
                                             "Wh",
                                             "robot"};
  for (const Tokenizer* tok : {&tok512(), &tok32k()}) {
    const RunCReference reference(tok->vocab());
    for (int round = 0; round < 200; ++round) {
      std::string text;
      const int pieces = 1 + static_cast<int>(rng() % 30);
      for (int i = 0; i < pieces; ++i) text += alphabet[rng() % alphabet.size()];
      EXPECT_EQ(tok->encode(text, false), reference.encode(text)) << text;
    }
  }
}

TEST(TokenizerEncode, LongPrompt) {
  std::string text;
  while (text.size() < 4000) text += "The robotic whispers secrets, fragments of probability. ";
  const std::vector<int32_t> ids = tok32k().encode(text, true);
  EXPECT_LT(ids.size(), text.size() / 2);
  EXPECT_EQ(tok32k().decode(ids), text);
}

// ---------------------------------------------------------------------------------------
// decode_piece

TEST(TokenizerDecode, Pieces) {
  const Tokenizer& t = tok512();
  EXPECT_EQ(t.decode_piece(1, 429), "");  // " " after BOS
  EXPECT_EQ(t.decode_piece(-1, 429), " ");
  EXPECT_EQ(t.decode_piece(1, 262), "a");  // " a" after BOS
  EXPECT_EQ(t.decode_piece(5, 262), " a");
  EXPECT_EQ(t.decode_piece(1, 3 + 0x41), "A");  // byte pieces are raw bytes
  EXPECT_EQ(t.decode_piece(1, 3 + 0x20), "");   // a <0x20> after BOS is stripped too
  EXPECT_EQ(t.decode_piece(7, 3 + 0x20), " ");
  EXPECT_EQ(t.decode_piece(7, 3), std::string(1, '\0'));
  EXPECT_EQ(t.decode_piece(-1, 1), "");  // control tokens
  EXPECT_EQ(t.decode_piece(262, 2), "");
  EXPECT_EQ(t.decode_piece(-1, 0), "<unk>");
  EXPECT_THROW(t.decode_piece(-1, 512), std::out_of_range);
  EXPECT_THROW(t.decode_piece(-1, -1), std::out_of_range);
  EXPECT_THROW(t.decode({1, 262, 100000}), std::out_of_range);
  // Only ids[1] follows BOS; a later " a" keeps its space.
  EXPECT_EQ(t.decode({1, 262, 262}), "a a");
  EXPECT_EQ(t.decode({262, 262}), " a a");
  // Invalid bytes come out as U+FFFD.
  EXPECT_EQ(t.decode({1, 3 + 0xFF, 3 + 0x41, 3 + 0xE6, 3 + 0x97}),
            "\xEF\xBF\xBD"
            "A\xEF\xBF\xBD");
}

// ---------------------------------------------------------------------------------------
// Utf8Stream

const std::string R = "\xEF\xBF\xBD";  // U+FFFD

struct StreamCase {
  const char* name;
  std::vector<std::string> pushes;
  std::vector<std::string> outputs;  // what each push returns
  std::string finished;              // what finish() returns
};

TEST(Utf8Stream, Table) {
  const std::vector<StreamCase> cases = {
      {"ascii", {"abc", "d"}, {"abc", "d"}, ""},
      {"2-byte split", {"a\xC3", "\xA9z"}, {"a", "\xC3\xA9z"}, ""},
      {"emoji byte by byte",
       {"\xF0", "\x9F", "\xA4", "\x96"},
       {"", "", "", "\xF0\x9F\xA4\x96"},
       ""},
      {"3-byte split",
       {"\xE6\x97", "\xA5\xE6", "\x9C\xAC"},
       {"", "\xE6\x97\xA5", "\xE6\x9C\xAC"},
       ""},
      {"invalid bytes",
       {"a\xFF"
        "b\xFE\xC0\xC1"},
       {"a" + R + "b" + R + R + R},
       ""},
      {"stray continuations",
       {"\x80\xBF"
        "x"},
       {R + R + "x"},
       ""},
      {"overlong 2-byte", {"\xC0\xAF"}, {R + R}, ""},
      {"overlong 3-byte", {"\xE0\x80\xAF"}, {R + R + R}, ""},
      {"overlong 4-byte", {"\xF0\x8F\xBF\xBF"}, {R + R + R + R}, ""},
      {"smallest 3-byte", {"\xE0\xA0\x80"}, {"\xE0\xA0\x80"}, ""},
      {"surrogate", {"\xED\xA0\x80"}, {R + R + R}, ""},
      {"last before surrogates", {"\xED\x9F\xBF"}, {"\xED\x9F\xBF"}, ""},
      {"above U+10FFFF", {"\xF4\x90\x80\x80"}, {R + R + R + R}, ""},
      {"U+10FFFF", {"\xF4\x8F\xBF\xBF"}, {"\xF4\x8F\xBF\xBF"}, ""},
      {"F5 lead", {"\xF5\x80"}, {R + R}, ""},
      {"truncated then ascii",
       {"\xE6\x97"
        "A"},
       {R + "A"},
       ""},
      {"truncated across pushes", {"\xE6\x97", "A"}, {"", R + "A"}, ""},
      {"truncated then new lead", {"\xF0\x9F\xA4\xC3\xA9"}, {R + "\xC3\xA9"}, ""},
      {"dangling at finish", {"ok\xE6\x97"}, {"ok"}, R},
      {"dangling lead at finish", {"\xF0"}, {""}, R},
      {"empty", {""}, {""}, ""},
  };
  for (const auto& c : cases) {
    ASSERT_EQ(c.pushes.size(), c.outputs.size()) << c.name;
    Utf8Stream s;
    for (size_t i = 0; i < c.pushes.size(); ++i) {
      EXPECT_EQ(s.push(c.pushes[i]), c.outputs[i]) << c.name << " push " << i;
    }
    EXPECT_EQ(s.finish(), c.finished) << c.name;
    EXPECT_EQ(s.finish(), "") << c.name;  // finish leaves the stream empty
  }
}

TEST(Utf8Stream, ChunkingDoesNotMatter) {
  std::string all;
  for (const auto& t : kRoundTripTexts) all += t;
  all +=
      "\xFF\xE6\x97"
      "A\xED\xA0\x80\xF0\x9F";
  Utf8Stream whole;
  const std::string expected = whole.push(all) + whole.finish();
  for (size_t step = 1; step < 7; ++step) {
    Utf8Stream s;
    std::string out;
    for (size_t i = 0; i < all.size(); i += step)
      out += s.push(std::string_view(all).substr(i, step));
    out += s.finish();
    EXPECT_EQ(out, expected) << step;
  }
}

}  // namespace
}  // namespace llmops::engine
