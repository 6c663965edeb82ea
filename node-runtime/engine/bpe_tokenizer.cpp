// Byte-level BPE ("gpt2" vocabularies): the pre-tokenizer cuts text into words; each
// word's bytes are spelled with GPT-2's printable characters (a space is "Ġ"); then the
// adjacent pair with the lowest merge rank is merged (leftmost on ties) until no pair has
// a merge. Llama 3's pre-tokenizer emits a word that is a whole token directly
// (ignore_merges), as llama.cpp and the Hugging Face tokenizer do.
#include <queue>
#include <string>

#include "errors.h"
#include "tokenizer_data.h"
#include "unicode.h"

namespace llmops::engine {

namespace {

// GPT-2's bytes_to_unicode(): printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') are
// their own character; the other 68 bytes take the code points from U+0100 up, in byte
// order.
struct ByteMapping {
  uint32_t byte_to_cp[256];
  std::unordered_map<uint32_t, uint8_t> cp_to_byte;
  std::string byte_to_utf8[256];

  ByteMapping() {
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      byte_to_cp[b] = printable ? b : next++;
      cp_to_byte.emplace(byte_to_cp[b], static_cast<uint8_t>(b));
      append_utf8(byte_to_utf8[b], byte_to_cp[b]);
    }
  }
};

const ByteMapping& mapping() {
  static const ByteMapping m;
  return m;
}

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// Merges the symbols of one word by rank (token ids; negative values are characters that
// are no token, which never merge).
void merge_word(const TokenizerData& d, std::vector<int32_t>& symbols) {
  const auto n = static_cast<int32_t>(symbols.size());
  if (n < 2) return;
  struct Link {
    int32_t prev;
    int32_t next;
  };
  struct Candidate {
    int32_t rank;
    int32_t left;
    int32_t right;
    int32_t left_id;
    int32_t right_id;
    int32_t merged_id;
  };
  const auto lower_priority = [](const Candidate& a, const Candidate& b) {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  };
  std::vector<Link> links(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) links[static_cast<size_t>(i)] = {i - 1, i + 1 < n ? i + 1 : -1};
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(lower_priority)> heap(
      lower_priority);
  const auto consider = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const int32_t left_id = symbols[static_cast<size_t>(left)];
    const int32_t right_id = symbols[static_cast<size_t>(right)];
    if (left_id < 0 || right_id < 0) return;
    const auto it = d.merges.find(pair_key(left_id, right_id));
    if (it == d.merges.end()) return;
    heap.push({it->second.rank, left, right, left_id, right_id, it->second.merged});
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i, i + 1);
  std::vector<bool> removed(static_cast<size_t>(n), false);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    if (removed[static_cast<size_t>(c.left)] || removed[static_cast<size_t>(c.right)] ||
        links[static_cast<size_t>(c.left)].next != c.right ||
        symbols[static_cast<size_t>(c.left)] != c.left_id ||
        symbols[static_cast<size_t>(c.right)] != c.right_id) {
      continue;
    }
    symbols[static_cast<size_t>(c.left)] = c.merged_id;
    removed[static_cast<size_t>(c.right)] = true;
    const int32_t next = links[static_cast<size_t>(c.right)].next;
    links[static_cast<size_t>(c.left)].next = next;
    if (next >= 0) links[static_cast<size_t>(next)].prev = c.left;
    consider(links[static_cast<size_t>(c.left)].prev, c.left);
    consider(c.left, next);
  }
  size_t w = 0;
  for (size_t i = 0; i < symbols.size(); ++i) {
    if (!removed[i]) symbols[w++] = symbols[i];
  }
  symbols.resize(w);
}

}  // namespace

std::string bpe_bytes_to_piece(std::string_view bytes) {
  const ByteMapping& m = mapping();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) out += m.byte_to_utf8[static_cast<uint8_t>(c)];
  return out;
}

std::string bpe_piece_bytes(std::string_view piece) {
  const ByteMapping& m = mapping();
  std::string out;
  out.reserve(piece.size());
  for (const uint32_t cp : utf8_to_codepoints(piece)) {
    const auto it = m.cp_to_byte.find(cp);
    if (it != m.cp_to_byte.end()) {
      out.push_back(static_cast<char>(it->second));
    } else {
      append_utf8(out, cp);
    }
  }
  return out;
}

void bpe_build_merges(TokenizerData& d) {
  d.merges.clear();
  d.merges.reserve(d.vocab.merges.size());
  std::string merged;
  for (size_t rank = 0; rank < d.vocab.merges.size(); ++rank) {
    const std::string& m = d.vocab.merges[rank];
    const auto fail = [&](const std::string& what) {
      throw ModelError("tokenizer merge " + std::to_string(rank) + " \"" + m + "\" " + what);
    };
    // As llama.cpp splits it: at the first space after the first byte.
    const size_t space = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
    if (space == std::string::npos || space + 1 >= m.size()) {
      fail("is not two pieces separated by a space");
    }
    const std::string_view left(m.data(), space);
    const std::string_view right(m.data() + space + 1, m.size() - space - 1);
    const int32_t left_id = d.find(left);
    if (left_id < 0) fail("references the unknown token \"" + std::string(left) + "\"");
    const int32_t right_id = d.find(right);
    if (right_id < 0) fail("references the unknown token \"" + std::string(right) + "\"");
    merged.assign(left).append(right);
    const int32_t merged_id = d.find(merged);
    if (merged_id < 0) fail("makes \"" + merged + "\", which is not a token");
    // A repeated pair keeps its first (best) rank, as llama.cpp's map does.
    d.merges.emplace(pair_key(left_id, right_id),
                     MergeResult{static_cast<int32_t>(rank), merged_id});
  }
}

void bpe_tokenize(const TokenizerData& d, std::string_view text, std::vector<int32_t>& out) {
  const ByteMapping& m = mapping();
  const bool ignore_merges = d.vocab.pre == PreTokenizer::Llama3;
  std::vector<int32_t> symbols;
  std::string encoded;
  for (const std::string& word : pre_tokenize(d.vocab.pre, text)) {
    encoded = bpe_bytes_to_piece(word);
    if (ignore_merges) {
      const int32_t id = d.find(encoded);
      if (id >= 0) {
        out.push_back(id);
        continue;
      }
    }
    symbols.clear();
    for (const char c : word) {
      const auto b = static_cast<uint8_t>(c);
      const int32_t id = d.find(m.byte_to_utf8[b]);
      symbols.push_back(id >= 0 ? id : -2 - b);  // no token: never merges, remembered
    }
    merge_word(d, symbols);
    for (const int32_t id : symbols) {
      if (id >= 0) {
        out.push_back(id);
        continue;
      }
      // A byte whose character is no token: llama.cpp looks up the character's UTF-8
      // bytes one by one as single-byte tokens and drops what it does not find.
      for (const char c : m.byte_to_utf8[static_cast<size_t>(-2 - id)]) {
        const int32_t single = d.find(std::string_view(&c, 1));
        if (single >= 0) out.push_back(single);
      }
    }
  }
}

}  // namespace llmops::engine
