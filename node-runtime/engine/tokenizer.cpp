#include "tokenizer.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "errors.h"
#include "mapped_file.h"
#include "tokenizer_data.h"

namespace llmops::engine {
namespace {

static_assert(std::endian::native == std::endian::little,
              "tokenizer.bin is little-endian and read with memcpy");

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581
constexpr char kReplacement[] = "\xEF\xBF\xBD";         // U+FFFD

int hex_digit(char c, bool uppercase_only) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (!uppercase_only && c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The byte of a piece spelled exactly "<0xHH>", or -1.
int parse_byte_piece(std::string_view piece, bool uppercase_only) {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
  const int hi = hex_digit(piece[3], uppercase_only);
  const int lo = hex_digit(piece[4], uppercase_only);
  if (hi < 0 || lo < 0) return -1;
  return hi * 16 + lo;
}

std::string format_float(float f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(f));
  return buf;
}

std::string byte_piece(int byte) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "<0x%02X>", byte);
  return buf;
}

}  // namespace

Vocab parse_tokenizer_bin(const uint8_t* data, size_t size, const std::string& name) {
  if (size < 4) {
    throw ModelError(name + ": tokenizer.bin too short for its header: " + std::to_string(size) +
                     " bytes, need 4 for max_token_length");
  }
  uint32_t max_token_length = 0;
  std::memcpy(&max_token_length, data, 4);

  Vocab vocab;
  size_t offset = 4;
  while (offset < size) {
    const std::string where = name + ": token " + std::to_string(vocab.size()) +
                              " at byte offset " + std::to_string(offset);
    if (size - offset < 8) {
      throw ModelError(where + ": record truncated: " + std::to_string(size - offset) +
                       " bytes left, need 8 for score and length");
    }
    float score = 0;
    int32_t len = 0;
    std::memcpy(&score, data + offset, 4);
    std::memcpy(&len, data + offset + 4, 4);
    if (!std::isfinite(score)) {
      throw ModelError(where + ": score is not finite (" + format_float(score) + ")");
    }
    if (len < 0) {
      throw ModelError(where + ": length " + std::to_string(len) + " is negative");
    }
    if (static_cast<uint32_t>(len) > max_token_length) {
      throw ModelError(where + ": length " + std::to_string(len) + " exceeds max_token_length " +
                       std::to_string(max_token_length));
    }
    offset += 8;
    if (static_cast<size_t>(len) > size - offset) {
      throw ModelError(where + ": length " + std::to_string(len) +
                       " runs past the end of the file (" + std::to_string(size - offset) +
                       " bytes left)");
    }
    // llama2.c's export wrote SentencePiece's "▁" as a space; spell it as GGUF does.
    std::string piece;
    for (size_t k = 0; k < static_cast<size_t>(len); ++k) {
      const char c = static_cast<char>(data[offset + k]);
      if (c == ' ') {
        piece.append(kSpmSpace);
      } else {
        piece.push_back(c);
      }
    }
    vocab.pieces.push_back(std::move(piece));
    vocab.scores.push_back(score);
    offset += static_cast<size_t>(len);
  }
  if (vocab.pieces.empty()) {
    throw ModelError(name + ": tokenizer.bin has no tokens (max_token_length " +
                     std::to_string(max_token_length) + ", then end of file)");
  }

  vocab.types.resize(vocab.size(), TokenType::Normal);
  for (size_t i = 0; i < vocab.size(); ++i) {
    if (i == 0) {
      vocab.types[i] = TokenType::Unknown;
    } else if (i == 1 || i == 2) {
      vocab.types[i] = TokenType::Control;
    } else if (parse_byte_piece(vocab.pieces[i], /*uppercase_only=*/true) >= 0) {
      vocab.types[i] = TokenType::Byte;
    }
  }
  vocab.unk_id = 0;
  vocab.bos_id = 1;
  vocab.eos_id = 2;
  vocab.spm_flavour = SpmFlavour::RunC;
  return vocab;
}

Vocab load_tokenizer_bin(const std::string& path) {
  require_regular_file(path);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw ModelError(path + ": cannot open tokenizer: " + std::strerror(errno));
  std::vector<uint8_t> data;
  uint8_t buf[1 << 16];
  for (;;) {
    const size_t n = std::fread(buf, 1, sizeof buf, f);
    data.insert(data.end(), buf, buf + n);
    if (n < sizeof buf) break;
  }
  if (std::ferror(f)) {
    const int err = errno;
    std::fclose(f);
    throw ModelError(path + ": cannot read tokenizer: " + std::strerror(err));
  }
  std::fclose(f);
  return parse_tokenizer_bin(data.data(), data.size(), path);
}

Vocab make_byte_vocab() {
  Vocab vocab;
  vocab.pieces = {"<unk>", "<s>", "</s>"};
  vocab.types = {TokenType::Unknown, TokenType::Control, TokenType::Control};
  for (int b = 0; b < 256; ++b) {
    vocab.pieces.push_back(byte_piece(b));
    vocab.types.push_back(TokenType::Byte);
  }
  vocab.scores.assign(vocab.pieces.size(), 0.0f);
  vocab.spm_flavour = SpmFlavour::RunC;
  vocab.unk_id = 0;
  vocab.bos_id = 1;
  vocab.eos_id = 2;
  return vocab;
}

namespace {

// Texts llama.cpp makes control tokens that end generation (its EOG set) whatever the
// file says: ends of turn and of text, and fill-in-the-middle padding/repository/file
// separators. "<|end|>" ends generation only in vocabularies without "<|return|>".
constexpr std::string_view kEndOfGenerationTexts[] = {
    "<|eot_id|>",      "<|im_end|>",         "<|end|>",    "<|return|>",
    "<|call|>",        "<|flush|>",          "<|calls|>",  "<end_of_turn>",
    "<|endoftext|>",   "<|eom_id|>",         "<EOT>",      "_<EOT>",
    "<|end_of_text|>", "<end_of_utterance>", "</s>",       "<eos>",
    "[EOS]",           "<|fim_pad|>",        "<fim-pad>",  "<PAD>",
    "<|fim_repo|>",    "<|repo_name|>",      "<fim-repo>", "<REPO>",
    "<reponame>",      "<|file_sep|>",       "<file_sep>", "<|file_separator|>",
};
// Fill-in-the-middle markers llama.cpp makes control tokens (without ending generation).
constexpr std::string_view kFimControlTexts[] = {
    "<|fim_prefix|>", "<fim-prefix>", "<PRE>", "\xE2\x96\x81<PRE>", "<|code_prefix|>",
    "<|fim_suffix|>", "<fim-suffix>", "<SUF>", "\xE2\x96\x81<SUF>", "<|code_suffix|>",
    "<|fim_middle|>", "<fim-middle>", "<MID>", "\xE2\x96\x81<MID>", "<|code_middle|>",
};
// The end-of-turn token when the file names none: the first of these it has.
constexpr std::string_view kEndOfTurnTexts[] = {
    "<|eot_id|>",    "<|im_end|>", "<|end|>", "<end_of_turn>",
    "<|endoftext|>", "<EOT>",      "_<EOT>",  "<end_of_utterance>",
};

void check_vocab(const Vocab& v) {
  const size_t n = v.size();
  if (n == 0) throw ModelError("tokenizer vocabulary is empty");
  if (v.scores.size() != n || v.types.size() != n) {
    throw ModelError("tokenizer vocabulary sizes differ: " + std::to_string(n) + " pieces, " +
                     std::to_string(v.scores.size()) + " scores, " +
                     std::to_string(v.types.size()) + " types");
  }
  const auto check_id = [n](int32_t id, const char* field, bool optional) {
    if ((optional && id == -1) || (id >= 0 && static_cast<size_t>(id) < n)) return;
    throw ModelError(std::string("tokenizer ") + field + " " + std::to_string(id) +
                     " is outside the vocabulary of " + std::to_string(n) + " tokens");
  };
  const bool spm = v.model == VocabModel::SentencePiece;
  check_id(v.bos_id, "bos_id", !spm);
  check_id(v.eos_id, "eos_id", !spm);
  check_id(v.unk_id, "unk_id", !spm);
  check_id(v.eot_id, "eot_id", true);
  check_id(v.eom_id, "eom_id", true);
  if (v.add_bos && v.bos_id < 0) throw ModelError("tokenizer asks for BOS but has no bos_id");
  if (v.add_eos && v.eos_id < 0) throw ModelError("tokenizer asks for EOS but has no eos_id");
  if (spm && !v.merges.empty()) {
    throw ModelError(
        "tokenizer has merges but is a SentencePiece vocabulary (merges are for gpt2)");
  }
}

}  // namespace

Tokenizer::Tokenizer(Vocab vocab) : d_(std::make_unique<TokenizerData>()) {
  check_vocab(vocab);
  TokenizerData& d = *d_;
  d.vocab = std::move(vocab);
  Vocab& v = d.vocab;
  const size_t n = v.size();
  std::fill(std::begin(d.byte_token), std::end(d.byte_token), -1);
  d.piece_to_id.reserve(n);
  // Duplicate pieces: llama.cpp's map keeps the last id, our run.c flavour the first.
  const bool keep_first = v.model == VocabModel::SentencePiece && v.spm_flavour == SpmFlavour::RunC;
  for (size_t i = 0; i < n; ++i) {
    const auto id = static_cast<int32_t>(i);
    if (std::isnan(v.scores[i])) {
      throw ModelError("tokenizer token " + std::to_string(i) + " has a NaN score");
    }
    if (v.types[i] == TokenType::Byte && v.model == VocabModel::SentencePiece) {
      const int byte = parse_byte_piece(v.pieces[i], /*uppercase_only=*/false);
      if (byte < 0) {
        throw ModelError("tokenizer token " + std::to_string(i) +
                         " has type Byte but is not spelled <0xHH> (" +
                         std::to_string(v.pieces[i].size()) + "-byte piece)");
      }
      if (d.byte_token[byte] < 0) d.byte_token[byte] = id;
    }
    const auto [it, inserted] = d.piece_to_id.emplace(v.pieces[i], id);
    if (!inserted && !keep_first) it->second = id;
  }
  // llama.cpp makes the well-known end-of-generation and fill-in-the-middle tokens control
  // tokens (so plain text never produces them) and finds EOT/EOM by their text when the
  // file names none.
  const bool has_return = d.find("<|return|>") >= 0;
  for (const std::string_view text : kEndOfGenerationTexts) {
    const int32_t id = d.find(text);
    if (id < 0) continue;
    v.types[static_cast<size_t>(id)] = TokenType::Control;
    if (text == "<|end|>" && has_return) continue;
    d.end_of_generation.push_back(id);
  }
  for (const std::string_view text : kFimControlTexts) {
    const int32_t id = d.find(text);
    if (id >= 0) v.types[static_cast<size_t>(id)] = TokenType::Control;
  }
  for (const std::string_view text : kEndOfTurnTexts) {
    if (v.eot_id >= 0) break;
    v.eot_id = d.find(text);
  }
  if (v.eom_id < 0) v.eom_id = d.find("<|eom_id|>");
  for (const int32_t id : {v.eos_id, v.eot_id, v.eom_id}) {
    if (id >= 0) d.end_of_generation.push_back(id);
  }
  std::sort(d.end_of_generation.begin(), d.end_of_generation.end());
  d.end_of_generation.erase(std::unique(d.end_of_generation.begin(), d.end_of_generation.end()),
                            d.end_of_generation.end());
  if (v.model == VocabModel::BytePairEncoding) bpe_build_merges(d);
  d.specials.build(v);
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

const Vocab& Tokenizer::vocab() const {
  return d_->vocab;
}

const std::vector<int32_t>& Tokenizer::end_of_generation() const {
  return d_->end_of_generation;
}

bool Tokenizer::is_end_of_generation(int32_t token) const {
  return std::binary_search(d_->end_of_generation.begin(), d_->end_of_generation.end(), token);
}

int32_t Tokenizer::find_piece(std::string_view piece) const {
  return d_->find(piece);
}

void Tokenizer::tokenize_text(std::string_view text, bool space_prefix,
                              std::vector<int32_t>& out) const {
  if (text.empty()) return;
  if (d_->vocab.model == VocabModel::BytePairEncoding) {
    bpe_tokenize(*d_, text, out);
  } else {
    spm_tokenize(*d_, text, space_prefix, out);
  }
}

std::vector<int32_t> Tokenizer::tokenize(std::string_view text, bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 2 + 1);
  // SentencePiece's space prefix starts the text and follows every special token.
  bool after_special = true;
  for (const auto& f : d_->specials.split(text, parse_special)) {
    if (f.token >= 0) {
      out.push_back(f.token);
      after_special = true;
      continue;
    }
    tokenize_text(text.substr(f.begin, f.end - f.begin),
                  d_->vocab.add_space_prefix && after_special, out);
    after_special = false;
  }
  return out;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos, bool add_eos,
                                       bool dummy_prefix) const {
  const Vocab& v = d_->vocab;
  if (add_bos && v.bos_id < 0) throw std::invalid_argument("the vocabulary has no BOS token");
  if (add_eos && v.eos_id < 0) throw std::invalid_argument("the vocabulary has no EOS token");
  std::vector<int32_t> out;
  if (add_bos) out.push_back(v.bos_id);
  bool after_special = true;
  for (const auto& f : d_->specials.split(text, /*parse_special=*/false)) {
    if (f.token >= 0) {
      out.push_back(f.token);
      after_special = true;
      continue;
    }
    tokenize_text(text.substr(f.begin, f.end - f.begin),
                  v.add_space_prefix && dummy_prefix && after_special, out);
    after_special = false;
  }
  if (add_eos) out.push_back(v.eos_id);
  return out;
}

std::vector<int32_t> Tokenizer::encode_prompt(std::string_view text) const {
  return encode(text, d_->vocab.add_bos, d_->vocab.add_eos);
}

std::string Tokenizer::decode_piece(int32_t prev, int32_t token) const {
  const Vocab& v = d_->vocab;
  if (token < 0 || static_cast<size_t>(token) >= v.size()) {
    throw std::out_of_range("token id " + std::to_string(token) + " is outside the vocabulary of " +
                            std::to_string(v.size()) + " tokens");
  }
  const auto t = static_cast<size_t>(token);
  const TokenType type = v.types[t];
  if (type == TokenType::Control || token == v.bos_id || token == v.eos_id) return "";
  const std::string& piece = v.pieces[t];
  if (v.model == VocabModel::BytePairEncoding) {
    return type == TokenType::UserDefined ? piece : bpe_piece_bytes(piece);
  }
  const bool strip_space = prev == v.bos_id && v.add_space_prefix;
  if (type == TokenType::Byte) {
    const int byte = parse_byte_piece(piece, /*uppercase_only=*/false);
    // run.c would print a <0x20> after BOS; SentencePiece strips it like a "▁" piece, which
    // keeps decode(encode(text, bos)) == text for vocabularies without a "▁" piece.
    if (strip_space && byte == ' ') return "";
    return std::string(1, static_cast<char>(byte));
  }
  std::string text;
  text.reserve(piece.size());
  for (size_t i = 0; i < piece.size();) {
    if (piece.compare(i, kSpmSpace.size(), kSpmSpace) == 0) {
      text.push_back(' ');
      i += kSpmSpace.size();
    } else {
      text.push_back(piece[i++]);
    }
  }
  if (strip_space && !text.empty() && text[0] == ' ') text.erase(0, 1);
  return text;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string bytes;
  for (size_t i = 0; i < ids.size(); ++i) bytes += decode_piece(i == 0 ? -1 : ids[i - 1], ids[i]);
  Utf8Stream stream;
  std::string out = stream.push(bytes);
  out += stream.finish();
  return out;
}

std::string Utf8Stream::push(std::string_view bytes) {
  pending_.append(bytes);
  std::string out;
  out.reserve(pending_.size());
  const size_t n = pending_.size();
  size_t i = 0;
  while (i < n) {
    const auto lead = static_cast<uint8_t>(pending_[i]);
    if (lead < 0x80) {
      out.push_back(static_cast<char>(lead));
      ++i;
      continue;
    }
    // RFC 3629 table: the second byte's range depends on the lead (no overlongs, no
    // surrogates, nothing above U+10FFFF); later bytes are 80..BF.
    size_t need = 0;
    uint8_t lo = 0x80;
    uint8_t hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      need = 1;
    } else if (lead == 0xE0) {
      need = 2;
      lo = 0xA0;
    } else if (lead == 0xED) {
      need = 2;
      hi = 0x9F;
    } else if (lead >= 0xE1 && lead <= 0xEF) {
      need = 2;
    } else if (lead == 0xF0) {
      need = 3;
      lo = 0x90;
    } else if (lead == 0xF4) {
      need = 3;
      hi = 0x8F;
    } else if (lead >= 0xF1 && lead <= 0xF3) {
      need = 3;
    } else {
      out += kReplacement;  // 80..C1, F5..FF never start a sequence
      ++i;
      continue;
    }
    size_t k = 1;
    bool invalid = false;
    for (; k <= need && i + k < n; ++k) {
      const auto c = static_cast<uint8_t>(pending_[i + k]);
      if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) {
        invalid = true;
        break;
      }
    }
    if (invalid) {
      out += kReplacement;  // one U+FFFD for the maximal valid prefix, as Unicode advises
      i += k;
      continue;
    }
    if (k <= need) break;  // incomplete but valid so far: wait for more bytes
    out.append(pending_, i, need + 1);
    i += need + 1;
  }
  pending_.erase(0, i);
  return out;
}

std::string Utf8Stream::finish() {
  if (pending_.empty()) return "";
  pending_.clear();
  return kReplacement;
}

}  // namespace llmops::engine
