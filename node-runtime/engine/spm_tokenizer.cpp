// SentencePiece-style encoding ("llama" vocabularies): split into characters, merge the
// adjacent pair whose merged piece scores highest (leftmost on ties) until no pair is a
// piece, and spell what is left that is not a piece as <0xHH> byte tokens. Two flavours
// (vocab.h): llama.cpp's for GGUF files, llama2.c run.c's for tokenizer.bin.
#include <algorithm>
#include <queue>
#include <string>

#include "tokenizer_data.h"
#include "unicode.h"

namespace llmops::engine {

namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

// run.c starts its best-merge search at -1e10 and needs a strictly greater score, so a
// pair whose merged piece scores -1e10 or less is never merged.
constexpr float kRunCNoMergeScore = -1e10f;

std::string escape_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  for (const char c : text) {
    if (c == ' ') {
      out.append(kSpace);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Bytes of `chunk` as byte tokens; one UNK for the chunk when a byte token is missing
// (like SentencePiece without byte fallback).
void append_bytes(const TokenizerData& d, std::string_view chunk, std::vector<int32_t>& out) {
  for (const char c : chunk) {
    if (d.byte_token[static_cast<uint8_t>(c)] < 0) {
      if (d.vocab.unk_id >= 0) out.push_back(d.vocab.unk_id);
      return;
    }
  }
  for (const char c : chunk) out.push_back(d.byte_token[static_cast<uint8_t>(c)]);
}

// llama.cpp: the (escaped) text is split by UTF-8 lead bytes; merges are made on text
// spans, so a pair qualifies when its bytes spell any piece.
void tokenize_llama_cpp(const TokenizerData& d, std::string_view raw, bool space_prefix,
                        std::vector<int32_t>& out) {
  const std::string text = escape_spaces(space_prefix ? " " + std::string(raw) : std::string(raw));
  struct Symbol {
    size_t begin;
    size_t n;  // 0 once merged into the symbol on its left
    int32_t prev;
    int32_t next;
  };
  std::vector<Symbol> symbols;
  for (size_t offs = 0; offs < text.size();) {
    const size_t n =
        std::min(utf8_sequence_length(static_cast<uint8_t>(text[offs])), text.size() - offs);
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({offs, n, index - 1, offs + n == text.size() ? -1 : index + 1});
    offs += n;
  }
  struct Bigram {
    float score;
    int32_t left;
    int32_t right;
    size_t size;
  };
  const auto lower = [](const Bigram& a, const Bigram& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::priority_queue<Bigram, std::vector<Bigram>, decltype(lower)> queue(lower);
  const auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[static_cast<size_t>(left)];
    const Symbol& r = symbols[static_cast<size_t>(right)];
    const std::string_view merged(text.data() + l.begin, l.n + r.n);
    const int32_t id = d.find(merged);
    if (id < 0) return;
    queue.push({d.vocab.scores[static_cast<size_t>(id)], left, right, merged.size()});
  };
  for (size_t i = 1; i < symbols.size(); ++i) {
    try_add(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));
  }
  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& l = symbols[static_cast<size_t>(b.left)];
    Symbol& r = symbols[static_cast<size_t>(b.right)];
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;  // stale
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[static_cast<size_t>(r.next)].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
  for (int32_t i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[static_cast<size_t>(i)].next) {
    const Symbol& s = symbols[static_cast<size_t>(i)];
    const std::string_view piece(text.data() + s.begin, s.n);
    const int32_t id = d.find(piece);
    if (id >= 0) {
      out.push_back(id);
    } else {
      append_bytes(d, piece, out);
    }
  }
}

// run.c: merges of token ids by the merged piece's score; one candidate per adjacent
// pair in a heap ordered by (score desc, position asc), which picks the pair run.c's
// rescans would.
void merge_run_c(const TokenizerData& d, std::vector<int32_t>& symbols) {
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
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(lower_priority)> heap(
      lower_priority);
  std::string concat;
  const auto& pieces = d.vocab.pieces;
  const auto consider = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const int32_t left_id = symbols[static_cast<size_t>(left)];
    const int32_t right_id = symbols[static_cast<size_t>(right)];
    concat.assign(pieces[static_cast<size_t>(left_id)]);
    concat.append(pieces[static_cast<size_t>(right_id)]);
    const int32_t merged = d.find(concat);
    if (merged < 0) return;
    const float score = d.vocab.scores[static_cast<size_t>(merged)];
    if (!(score > kRunCNoMergeScore)) return;
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

void tokenize_run_c(const TokenizerData& d, std::string_view text, bool space_prefix,
                    std::vector<int32_t>& out) {
  std::vector<int32_t> symbols;
  symbols.reserve(text.size() + 1);
  if (!text.empty() && space_prefix) {
    // run.c adds the dummy prefix as a token of its own, not as a byte of the text: a
    // leading stray continuation byte is not glued to it.
    const int32_t space = d.find(kSpace);
    if (space >= 0) {
      symbols.push_back(space);
    } else {
      append_bytes(d, " ", symbols);
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
    const int32_t id = d.find(escape_spaces(chunk));
    if (id >= 0) {
      symbols.push_back(id);
    } else {
      append_bytes(d, chunk, symbols);
    }
  }
  merge_run_c(d, symbols);
  out.insert(out.end(), symbols.begin(), symbols.end());
}

}  // namespace

void spm_tokenize(const TokenizerData& d, std::string_view text, bool space_prefix,
                  std::vector<int32_t>& out) {
  if (d.vocab.spm_flavour == SpmFlavour::RunC) {
    tokenize_run_c(d, text, space_prefix, out);
  } else {
    tokenize_llama_cpp(d, text, space_prefix, out);
  }
}

}  // namespace llmops::engine
