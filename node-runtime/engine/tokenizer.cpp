#include "tokenizer.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <queue>
#include <stdexcept>

#include "errors.h"
#include "mapped_file.h"

namespace llmops::engine {
namespace {

static_assert(std::endian::native == std::endian::little,
              "tokenizer.bin is little-endian and read with memcpy");

// run.c starts its best-merge search at -1e10 and needs a strictly greater score, so a
// pair whose merged piece scores -1e10 or less is never merged.
constexpr float kNoMergeScore = -1e10f;
constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

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
    vocab.pieces.emplace_back(reinterpret_cast<const char*>(data + offset),
                              static_cast<size_t>(len));
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
  vocab.unk_id = 0;
  vocab.bos_id = 1;
  vocab.eos_id = 2;
  return vocab;
}

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {
  const size_t n = vocab_.size();
  if (n == 0) throw ModelError("tokenizer vocabulary is empty");
  if (vocab_.scores.size() != n || vocab_.types.size() != n) {
    throw ModelError("tokenizer vocabulary sizes differ: " + std::to_string(n) + " pieces, " +
                     std::to_string(vocab_.scores.size()) + " scores, " +
                     std::to_string(vocab_.types.size()) + " types");
  }
  const auto check_id = [n](int32_t id, const char* field) {
    if (id < 0 || static_cast<size_t>(id) >= n) {
      throw ModelError(std::string("tokenizer ") + field + " " + std::to_string(id) +
                       " is outside the vocabulary of " + std::to_string(n) + " tokens");
    }
  };
  check_id(vocab_.bos_id, "bos_id");
  check_id(vocab_.eos_id, "eos_id");
  check_id(vocab_.unk_id, "unk_id");

  std::fill(std::begin(byte_token_), std::end(byte_token_), -1);
  piece_to_id_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const auto id = static_cast<int32_t>(i);
    if (std::isnan(vocab_.scores[i])) {
      throw ModelError("tokenizer token " + std::to_string(i) + " has a NaN score");
    }
    if (vocab_.types[i] == TokenType::Byte) {
      const int byte = parse_byte_piece(vocab_.pieces[i], /*uppercase_only=*/false);
      if (byte < 0) {
        throw ModelError("tokenizer token " + std::to_string(i) +
                         " has type Byte but is not spelled <0xHH> (" +
                         std::to_string(vocab_.pieces[i].size()) + "-byte piece)");
      }
      if (byte_token_[byte] < 0) byte_token_[byte] = id;
    }
    piece_to_id_.emplace(vocab_.pieces[i], id);  // keeps the first id of a duplicate piece
  }
}

int32_t Tokenizer::find_piece(std::string_view piece) const {
  const auto it = piece_to_id_.find(piece);
  return it == piece_to_id_.end() ? -1 : it->second;
}

void Tokenizer::append_byte_fallback(std::string_view chunk, std::vector<int32_t>& out) const {
  for (const char c : chunk) {
    if (byte_token_[static_cast<uint8_t>(c)] < 0) {
      out.push_back(vocab_.unk_id);  // like SentencePiece without byte fallback
      return;
    }
  }
  for (const char c : chunk) out.push_back(byte_token_[static_cast<uint8_t>(c)]);
}

// run.c rescans every pair after each merge (O(n^2) lookups). This keeps one candidate
// per adjacent pair in a heap ordered by (score desc, position asc), which picks the same
// pair every step: positions keep their left-to-right order as symbols merge leftwards.
void Tokenizer::merge_pairs(std::vector<int32_t>& symbols) const {
  const auto n = static_cast<int32_t>(symbols.size());
  if (n < 2) return;
  struct Link {
    int32_t prev;
    int32_t next;
  };
  struct Candidate {
    float score;
    int32_t left;
    int32_t right;
    int32_t left_id;
    int32_t right_id;
    int32_t merged_id;
  };
  const auto lower_priority = [](const Candidate& a, const Candidate& b) {
    if (a.score != b.score) return a.score < b.score;
    return a.left > b.left;
  };

  std::vector<Link> links(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) links[static_cast<size_t>(i)] = {i - 1, i + 1 < n ? i + 1 : -1};
  std::vector<Candidate> storage;
  storage.reserve(static_cast<size_t>(n));
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(lower_priority)> heap(
      lower_priority, std::move(storage));
  std::string concat;

  const auto consider = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const int32_t left_id = symbols[static_cast<size_t>(left)];
    const int32_t right_id = symbols[static_cast<size_t>(right)];
    concat.assign(vocab_.pieces[static_cast<size_t>(left_id)]);
    concat.append(vocab_.pieces[static_cast<size_t>(right_id)]);
    const int32_t merged = find_piece(concat);
    if (merged < 0) return;
    const float score = vocab_.scores[static_cast<size_t>(merged)];
    if (!(score > kNoMergeScore)) return;
    heap.push({score, left, right, left_id, right_id, merged});
  };

  for (int32_t i = 0; i + 1 < n; ++i) consider(i, i + 1);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    // Skip candidates whose pair has changed since they were pushed (removed symbols
    // hold -1, which no candidate's ids match).
    if (symbols[static_cast<size_t>(c.left)] != c.left_id ||
        links[static_cast<size_t>(c.left)].next != c.right ||
        symbols[static_cast<size_t>(c.right)] != c.right_id) {
      continue;
    }
    symbols[static_cast<size_t>(c.left)] = c.merged_id;
    symbols[static_cast<size_t>(c.right)] = -1;
    const int32_t next = links[static_cast<size_t>(c.right)].next;
    links[static_cast<size_t>(c.left)].next = next;
    if (next >= 0) links[static_cast<size_t>(next)].prev = c.left;
    consider(links[static_cast<size_t>(c.left)].prev, c.left);
    consider(c.left, next);
  }
  std::erase(symbols, -1);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos, bool add_eos,
                                       bool dummy_prefix) const {
  std::vector<int32_t> symbols;
  symbols.reserve(text.size() + 1);
  if (!text.empty() && dummy_prefix) {
    // run.c adds the dummy prefix as a token of its own, not as a byte of the text: a
    // leading stray continuation byte is not glued to it.
    const int32_t space = find_piece(" ");
    if (space >= 0) {
      symbols.push_back(space);
    } else {
      append_byte_fallback(" ", symbols);
    }
  }
  // run.c's "UTF-8 character" loop: any byte starts a chunk, which takes the following
  // continuation bytes (10xxxxxx) up to 4 bytes in all; no other validation. Unlike
  // run.c (C strings) a NUL byte is an ordinary character here.
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i++;
    while (i < text.size() && (static_cast<uint8_t>(text[i]) & 0xC0) == 0x80 && i - start < 4) ++i;
    const std::string_view chunk = text.substr(start, i - start);
    const int32_t id = find_piece(chunk);
    if (id >= 0) {
      symbols.push_back(id);
    } else {
      append_byte_fallback(chunk, symbols);
    }
  }
  merge_pairs(symbols);

  std::vector<int32_t> out;
  out.reserve(symbols.size() + 2);
  if (add_bos) out.push_back(vocab_.bos_id);
  out.insert(out.end(), symbols.begin(), symbols.end());
  if (add_eos) out.push_back(vocab_.eos_id);
  return out;
}

std::string Tokenizer::decode_piece(int32_t prev, int32_t token) const {
  if (token < 0 || static_cast<size_t>(token) >= vocab_.size()) {
    throw std::out_of_range("token id " + std::to_string(token) + " is outside the vocabulary of " +
                            std::to_string(vocab_.size()) + " tokens");
  }
  const auto t = static_cast<size_t>(token);
  if (vocab_.types[t] == TokenType::Control || token == vocab_.bos_id || token == vocab_.eos_id) {
    return "";
  }
  const bool after_bos = prev == vocab_.bos_id;
  if (vocab_.types[t] == TokenType::Byte) {
    const int byte = parse_byte_piece(vocab_.pieces[t], /*uppercase_only=*/false);
    // run.c would print a <0x20> after BOS; SentencePiece strips it like a " " piece, which
    // keeps decode(encode(text, bos)) == text for vocabularies without a " " piece.
    if (after_bos && byte == ' ') return "";
    return std::string(1, static_cast<char>(byte));
  }
  const std::string& piece = vocab_.pieces[t];
  if (after_bos && !piece.empty() && piece[0] == ' ') return piece.substr(1);
  return piece;
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
