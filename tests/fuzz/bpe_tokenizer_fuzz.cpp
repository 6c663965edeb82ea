// Fuzzes byte-level BPE two ways. (a) Text for fixed tokenizers (every pre-tokenizer,
// with control and user-defined tokens, with and without parse_special): ids stay in the
// vocabulary, pre-tokenized words concatenate to the text (invalid UTF-8 as U+FFFD),
// decoding is valid UTF-8 and gives valid UTF-8 text back as it was when special tokens
// are not parsed. (b) A vocabulary spelled by the input (pieces, an empty line, merges):
// building it either succeeds or throws ModelError (unknown pieces in merges, ...), and a
// built one tokenizes a fixed text within its vocabulary.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/errors.h"
#include "engine/pre_tokenizer.h"
#include "engine/tokenizer.h"
#include "engine/tokenizer_data.h"
#include "engine/unicode.h"

namespace {

using llmops::engine::ModelError;
using llmops::engine::PreTokenizer;
using llmops::engine::Tokenizer;
using llmops::engine::TokenType;
using llmops::engine::Vocab;
using llmops::engine::VocabModel;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Valid UTF-8 (RFC 3629), as the stream decoder must produce.
bool valid_utf8(std::string_view s) {
  std::string round;
  for (const uint32_t cp : llmops::engine::utf8_to_codepoints(s)) {
    if (cp == 0xFFFD && s.find("\xEF\xBF\xBD") == std::string_view::npos) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    llmops::engine::append_utf8(round, cp);
  }
  // Overlong forms decode to a code point that re-encodes shorter.
  return round == s;
}

std::string sanitized(std::string_view s) {
  std::string out;
  for (const uint32_t cp : llmops::engine::utf8_to_codepoints(s))
    llmops::engine::append_utf8(out, cp);
  return out;
}

Vocab base_vocab(PreTokenizer pre) {
  Vocab v;
  v.model = VocabModel::BytePairEncoding;
  v.pre = pre;
  for (int b = 0; b < 256; ++b) {
    v.pieces.push_back(llmops::engine::bpe_bytes_to_piece(std::string(1, static_cast<char>(b))));
  }
  const std::string sp = llmops::engine::bpe_bytes_to_piece(" ");
  for (const std::string& p : std::vector<std::string>{"th", "the", sp + "t", sp + "th", sp + "the",
                                                       "in", "ing", "12", "123"}) {
    v.pieces.push_back(p);
  }
  v.merges = {"t h", "th e", sp + " t", sp + "t h", sp + "th e", "i n", "in g", "1 2", "12 3"};
  v.types.assign(v.pieces.size(), TokenType::Normal);
  v.pieces.push_back("<|end|>");
  v.types.push_back(TokenType::Control);
  v.pieces.push_back("<tool>");
  v.types.push_back(TokenType::UserDefined);
  v.scores.assign(v.pieces.size(), 0.0f);
  v.bos_id = v.eos_id = v.unk_id = -1;
  v.add_bos = false;
  v.add_space_prefix = false;
  return v;
}

const std::vector<Tokenizer>& tokenizers() {
  static const std::vector<Tokenizer> all = [] {
    std::vector<Tokenizer> t;
    for (PreTokenizer pre : {PreTokenizer::Default, PreTokenizer::Gpt2, PreTokenizer::Llama3,
                             PreTokenizer::Qwen2, PreTokenizer::Smollm}) {
      t.emplace_back(base_vocab(pre));
    }
    return t;
  }();
  return all;
}

void fuzz_text(uint8_t selector, std::string_view text) {
  const auto& all = tokenizers();
  const Tokenizer& tok = all[selector % all.size()];
  const bool special = (selector / all.size()) % 2 == 1;
  std::string words;
  for (const std::string& w : llmops::engine::pre_tokenize(tok.vocab().pre, text)) {
    check(!w.empty());
    words += w;
  }
  check(words == sanitized(text));
  const std::vector<int32_t> ids = tok.tokenize(text, special);
  for (const int32_t id : ids) check(id >= 0 && static_cast<size_t>(id) < tok.size());
  const std::string decoded = tok.decode(ids);
  check(valid_utf8(decoded));
  if (!special && valid_utf8(text)) check(decoded == text);
}

void fuzz_vocab(std::string_view spec) {
  Vocab v = base_vocab(PreTokenizer::Llama3);
  size_t pos = 0;
  bool merges = false;
  while (pos <= spec.size()) {
    size_t end = spec.find('\n', pos);
    if (end == std::string_view::npos) end = spec.size();
    const std::string line(spec.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty() && !merges) {
      merges = true;
      continue;
    }
    if (merges) {
      v.merges.push_back(line);
    } else {
      v.pieces.push_back(line);
      v.types.push_back(TokenType::Normal);
      v.scores.push_back(0.0f);
    }
  }
  try {
    const Tokenizer tok(std::move(v));
    for (const int32_t id : tok.tokenize("the thing <tool> 123 <|end|>", true)) {
      check(id >= 0 && static_cast<size_t>(id) < tok.size());
    }
  } catch (const ModelError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 0x80) {
    fuzz_vocab(rest);
  } else {
    fuzz_text(data[0], rest);
  }
  return 0;
}
