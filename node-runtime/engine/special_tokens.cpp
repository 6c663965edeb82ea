// Splitting text at special tokens, as llama.cpp's tokenizer_st_partition does: for each
// special token, longest text first, every occurrence left to right within the text no
// earlier token has taken becomes that token. One pass over the text finds every
// occurrence with a byte trie; the priorities then decide which ones stand.
#include <algorithm>

#include "tokenizer_data.h"

namespace llmops::engine {

namespace {

bool is_special(TokenType t) {
  return t == TokenType::Control || t == TokenType::UserDefined || t == TokenType::Unknown;
}

}  // namespace

void SpecialTokenMatcher::build(const Vocab& vocab) {
  vocab_ = &vocab;
  edges_.clear();
  node_token_.assign(1, -1);
  priority_.assign(vocab.size(), -1);
  std::vector<int32_t> ids;
  for (size_t i = 0; i < vocab.size(); ++i) {
    if (is_special(vocab.types[i]) && !vocab.pieces[i].empty())
      ids.push_back(static_cast<int32_t>(i));
  }
  std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {
    return vocab.pieces[static_cast<size_t>(a)].size() >
           vocab.pieces[static_cast<size_t>(b)].size();
  });
  for (size_t rank = 0; rank < ids.size(); ++rank) {
    const int32_t id = ids[rank];
    priority_[static_cast<size_t>(id)] = static_cast<int32_t>(rank);
    int32_t node = 0;
    for (const char c : vocab.pieces[static_cast<size_t>(id)]) {
      const uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(c);
      const auto it = edges_.find(key);
      if (it != edges_.end()) {
        node = it->second;
      } else {
        const auto next = static_cast<int32_t>(node_token_.size());
        node_token_.push_back(-1);
        edges_.emplace(key, next);
        node = next;
      }
    }
    // Duplicate texts: the first in priority order keeps the node (llama.cpp would try
    // both, and the second never finds text the first left).
    if (node_token_[static_cast<size_t>(node)] < 0) node_token_[static_cast<size_t>(node)] = id;
  }
}

std::vector<SpecialTokenMatcher::Fragment> SpecialTokenMatcher::split(std::string_view text,
                                                                      bool parse_special) const {
  struct Occurrence {
    int32_t rank;
    size_t begin;
    size_t end;
    int32_t token;
  };
  std::vector<Occurrence> found;
  if (node_token_.size() > 1) {
    for (size_t i = 0; i < text.size(); ++i) {
      int32_t node = 0;
      for (size_t j = i; j < text.size(); ++j) {
        const uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(text[j]);
        const auto it = edges_.find(key);
        if (it == edges_.end()) break;
        node = it->second;
        const int32_t token = node_token_[static_cast<size_t>(node)];
        if (token < 0) continue;
        if (!parse_special && vocab_->types[static_cast<size_t>(token)] != TokenType::UserDefined) {
          continue;
        }
        found.push_back({priority_[static_cast<size_t>(token)], i, j + 1, token});
      }
    }
  }
  std::vector<Fragment> out;
  if (found.empty()) {
    if (!text.empty()) out.push_back({-1, 0, text.size()});
    return out;
  }
  std::sort(found.begin(), found.end(), [](const Occurrence& a, const Occurrence& b) {
    return a.rank != b.rank ? a.rank < b.rank : a.begin < b.begin;
  });
  std::vector<bool> taken(text.size(), false);
  std::vector<Occurrence> kept;
  for (const Occurrence& o : found) {
    bool free = true;
    for (size_t k = o.begin; k < o.end && free; ++k) free = !taken[k];
    if (!free) continue;
    for (size_t k = o.begin; k < o.end; ++k) taken[k] = true;
    kept.push_back(o);
  }
  std::sort(kept.begin(), kept.end(),
            [](const Occurrence& a, const Occurrence& b) { return a.begin < b.begin; });
  size_t pos = 0;
  for (const Occurrence& o : kept) {
    if (o.begin > pos) out.push_back({-1, pos, o.begin});
    out.push_back({o.token, o.begin, o.end});
    pos = o.end;
  }
  if (pos < text.size()) out.push_back({-1, pos, text.size()});
  return out;
}

}  // namespace llmops::engine
